"""Programme insights (docs/insights.md), computed in the database, set-based.

Only annual reviews count (in-year updates are excluded) and only counted members (not workers
or LTO reps). The dashboard, the insights page, the exports and `flask insights --json` all read
from here, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    and_,
    distinct,
    func,
    literal_column,
    null,
    select,
    union_all,
)

from app.extensions import db
from app.models import Area, Case, RosterEntry, Snapshot, User
from app.rules.vocabulary import UNCOUNTED_ROLES, Flag, SnapshotKind

# The tables, not the mapped classes: these figures need no ORM objects, and statements over
# plain tables never make SQLAlchemy configure every mapper (~70 ms), which a command that
# only reads figures (`flask insights`) would otherwise pay for.
snapshots = Snapshot.__table__
roster = RosterEntry.__table__
cases = Case.__table__
areas = Area.__table__
users = User.__table__

KEYS = (
    "review_years",
    "distinct_members_total",
    "average_distinct_members_per_partnership",
    "members_by_year",
    "new_members_by_year",
    "members_in_all_reviews",
    "partnerships_with_member_in_all_reviews",
    "partnerships_with_3plus_members_in_all_reviews",
    "areas_under_criteria_by_year",
    "areas_at_threshold_by_year",
    "cases_returned_within_criteria",
)


Span = tuple[int | None, int | None]  # first and last review year, None: no limit


def _in_years(query: Select, years: Span) -> Select:
    first, last = years
    if first is not None:
        query = query.where(snapshots.c.review_year >= first)
    if last is not None:
        query = query.where(snapshots.c.review_year <= last)
    return query


def _counted(
    area_ids: Sequence[int] | None, years: tuple[int | None, int | None] = (None, None)
) -> Select:
    """(area_id, review_year, person_ref) for every counted member of every annual review
    (of the review years `years` = (first, last), either end open when None)."""
    query = (
        select(
            snapshots.c.area_id.label("area_id"),
            snapshots.c.review_year.label("year"),
            roster.c.person_ref.label("person"),
        )
        .join(roster, roster.c.snapshot_id == snapshots.c.id)
        .where(snapshots.c.kind == SnapshotKind.ANNUAL, roster.c.role.not_in(UNCOUNTED_ROLES))
    )
    if area_ids is not None:
        query = query.where(snapshots.c.area_id.in_(area_ids))
    return _in_years(query, years)


def _by_year(rows, years: list[int]) -> dict[int, int]:
    counts = {year: 0 for year in years}
    for year, count in rows:
        counts[int(year)] = int(count)
    return counts


def programme_insights(
    area_ids: Sequence[int] | None = None,
    first_year: int | None = None,
    last_year: int | None = None,
) -> dict[str, Any]:
    """Every insights figure for the programme, or for the areas given (years as int keys),
    over the review years from `first_year` to `last_year` (both included; None: no limit).

    "All reviews" means every review year in that range; a member is new in the first year
    they were a counted member anywhere, ever (so a range starting later still shows who was
    really new); returned cases are those opened in the range's years (docs/insights.md)."""
    if area_ids is not None:
        area_ids = list(area_ids)
    span = (first_year, last_year)
    years = _review_years(area_ids, span)
    members = _member_figures(area_ids, span, years)
    under, threshold = _flags_by_year(area_ids, span, years)
    return {
        "review_years": years,
        "distinct_members_total": members["total"],
        "average_distinct_members_per_partnership": members["average"],
        "members_by_year": members["by_year"],
        "new_members_by_year": members["new_by_year"],
        "members_in_all_reviews": members["in_all"],
        "partnerships_with_member_in_all_reviews": members["with_one"],
        "partnerships_with_3plus_members_in_all_reviews": members["with_three"],
        "areas_under_criteria_by_year": under,
        "areas_at_threshold_by_year": threshold,
        "cases_returned_within_criteria": _returned_cases(area_ids, span),
    }


def _review_years(area_ids: list[int] | None, span: Span) -> list[int]:
    annual = _in_years(
        select(snapshots.c.review_year).where(snapshots.c.kind == SnapshotKind.ANNUAL), span
    )
    if area_ids is not None:
        annual = annual.where(snapshots.c.area_id.in_(area_ids))
    return sorted(int(y) for y in db.session.scalars(annual.distinct()))


def _member_figures(area_ids: list[int] | None, span: Span, years: list[int]) -> dict[str, Any]:
    """The member figures, in one statement that reads the rosters once.

    `seen` has one row per counted member, area and review year (with the number of roster
    rows, for the yearly counts); per member (`people`: in how many review years, the first
    one) and per member and area (`pairs`: in how many review years) are aggregates of it, and
    every figure is an aggregate of one of these three, as rows (figure, year, value).

    - distinct members: rows of `people`; their mean per partnership: `pairs` per area;
    - members by year: roster rows per year; new members: members whose first year ever as a
      counted member anywhere (all areas, all years) is a year they are seen in;
    - in all reviews: members seen in every review year of the range (anywhere); partnerships
      with one (three) such members in that partnership."""
    counted = _counted(area_ids, span).subquery("counted")
    seen = (
        select(counted.c.area_id, counted.c.year, counted.c.person, func.count().label("rows"))
        .group_by(counted.c.area_id, counted.c.year, counted.c.person)
        .cte("seen")
    )
    people = (
        select(
            seen.c.person,
            func.count(distinct(seen.c.year)).label("years"),
            func.min(seen.c.year).label("first"),
        )
        .group_by(seen.c.person)
        .cte("people")
    )
    pairs = (
        select(seen.c.area_id, seen.c.person, func.count().label("years"))
        .group_by(seen.c.area_id, seen.c.person)
        .cte("pairs")
    )
    per_area = (
        select(pairs.c.area_id, func.count().label("people")).group_by(pairs.c.area_id).subquery()
    )
    core = (
        select(pairs.c.area_id, func.count().label("core"))
        .where(pairs.c.years == len(years))
        .group_by(pairs.c.area_id)
        .subquery()
    )
    if area_ids is None and span == (None, None):
        # Every counted member of every review is seen: a member's first year is in `people`.
        new = select(literal_column("'new'"), people.c.first, func.count()).group_by(people.c.first)
    else:
        everywhere = _counted(None).subquery("everywhere")
        first_seen = (
            select(everywhere.c.person, func.min(everywhere.c.year).label("first"))
            .group_by(everywhere.c.person)
            .subquery("first_year")
        )
        new = (
            select(literal_column("'new'"), seen.c.year, func.count(distinct(seen.c.person)))
            .join(
                first_seen,
                and_(first_seen.c.person == seen.c.person, first_seen.c.first == seen.c.year),
            )
            .group_by(seen.c.year)
        )
    no_year = null().cast(Integer)
    figures = union_all(
        select(literal_column("'year'"), seen.c.year, func.sum(seen.c.rows)).group_by(seen.c.year),
        new,
        select(literal_column("'total'"), no_year, func.count()).select_from(people),
        select(literal_column("'in_all'"), no_year, func.count())
        .select_from(people)
        .where(people.c.years == len(years)),
        select(literal_column("'average'"), no_year, func.avg(per_area.c.people)),
        select(literal_column("'with_one'"), no_year, func.count()).select_from(core),
        select(literal_column("'with_three'"), no_year, func.count())
        .select_from(core)
        .where(core.c.core >= 3),
    )
    by_year: list[tuple[int, int]] = []
    new_by_year: list[tuple[int, int]] = []
    single: dict[str, Any] = {}
    for figure, year, value in db.session.execute(figures):
        if figure == "year":
            by_year.append((year, value))
        elif figure == "new":
            new_by_year.append((year, value))
        else:
            single[figure] = value
    in_all = int(single["in_all"] or 0) if years else 0
    average = single["average"]
    return {
        "total": int(single["total"] or 0),
        "average": round(float(average), 1) if average is not None else 0.0,
        "by_year": _by_year(by_year, years),
        "new_by_year": _by_year(new_by_year, years),
        "in_all": in_all,
        "with_one": int(single["with_one"] or 0) if years else 0,
        "with_three": int(single["with_three"] or 0) if years else 0,
    }


def _flags_by_year(
    area_ids: list[int] | None, span: Span, years: list[int]
) -> tuple[dict[int, int], dict[int, int]]:
    """Areas whose annual review is under criteria, and at threshold, per year."""
    flags = _in_years(
        select(snapshots.c.review_year, snapshots.c.flag, func.count()).where(
            snapshots.c.kind == SnapshotKind.ANNUAL, snapshots.c.flag.is_not(None)
        ),
        span,
    )
    if area_ids is not None:
        flags = flags.where(snapshots.c.area_id.in_(area_ids))
    rows = db.session.execute(flags.group_by(snapshots.c.review_year, snapshots.c.flag)).all()
    under = _by_year([(y, c) for y, f, c in rows if f == Flag.UNDER_CRITERIA], years)
    threshold = _by_year([(y, c) for y, f, c in rows if f == Flag.AT_THRESHOLD], years)
    return under, threshold


def _returned_cases(area_ids: list[int] | None, span: Span) -> int:
    returned = select(func.count()).select_from(cases).where(cases.c.returned_on.is_not(None))
    if area_ids is not None:
        returned = returned.where(cases.c.area_id.in_(area_ids))
    return int(db.session.scalar(_opened_in(returned, *span)) or 0)


def as_json(insights: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape: years as string keys, exactly the keys of docs/insights.md, in its order."""
    out: dict[str, Any] = {}
    for key in KEYS:
        value = insights[key]
        if isinstance(value, dict):
            value = {str(year): count for year, count in sorted(value.items())}
        out[key] = value
    return out


def _opened_in(query: Select, first_year: int | None, last_year: int | None) -> Select:
    if first_year is not None:
        query = query.where(cases.c.opened_on >= date(first_year, 1, 1))
    if last_year is not None:
        query = query.where(cases.c.opened_on <= date(last_year, 12, 31))
    return query


def review_years(area_ids: Sequence[int] | None = None) -> list[int]:
    """Every annual review year stored (for these areas), oldest first."""
    query = (
        select(snapshots.c.review_year).where(snapshots.c.kind == SnapshotKind.ANNUAL).distinct()
    )
    if area_ids is not None:
        query = query.where(snapshots.c.area_id.in_(list(area_ids)))
    return sorted(int(y) for y in db.session.scalars(query) if y is not None)


def returns_by_month(
    area_ids: Sequence[int] | None = None,
    first_year: int | None = None,
    last_year: int | None = None,
) -> list[tuple[str, int]]:
    """("YYYY-MM", number of cases that returned within criteria that month), oldest first;
    with a range of review years, only the cases opened in those years (as the insights)."""
    query = _opened_in(
        select(cases.c.returned_on).where(cases.c.returned_on.is_not(None)), first_year, last_year
    )
    if area_ids is not None:
        query = query.where(cases.c.area_id.in_(list(area_ids)))
    counts: dict[str, int] = {}
    # Grouping by month differs between SQLite and PostgreSQL; the dates are few (one per
    # returned case), so they are bucketed here.
    for returned_on in db.session.scalars(query):
        month = returned_on.strftime("%Y-%m")
        counts[month] = counts.get(month, 0) + 1
    return sorted(counts.items())


def area_ids_for(
    rep_id: int | None = None, region: str | None = None, codes: Sequence[str] | None = None
) -> list[int] | None:
    """The areas of a rep, of the reps of a region, or with these codes; None = programme."""
    if rep_id is None and not region and not codes:
        return None
    query = select(areas.c.id)
    if rep_id is not None:
        query = query.where(areas.c.rep_id == rep_id)
    if region:
        query = query.where(areas.c.rep_id.in_(select(users.c.id).where(users.c.region == region)))
    if codes:
        query = query.where(areas.c.code.in_([c.strip().upper() for c in codes]))
    return list(db.session.scalars(query.order_by(areas.c.id)))
