"""Programme insights (docs/insights.md), computed in the database, set-based.

Only annual reviews count (in-year updates are excluded) and only counted members (not workers
or LTO reps). The dashboard, the insights page, the exports and `flask insights --json` all read
from here, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, distinct, func, select

from app.extensions import db
from app.models import Case, RosterEntry, Snapshot, User
from app.models.areas import Area
from app.rules.vocabulary import UNCOUNTED_ROLES, Flag, SnapshotKind

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
        query = query.where(Snapshot.review_year >= first)
    if last is not None:
        query = query.where(Snapshot.review_year <= last)
    return query


def _counted(
    area_ids: Sequence[int] | None, years: tuple[int | None, int | None] = (None, None)
) -> Select:
    """(area_id, review_year, person_ref) for every counted member of every annual review
    (of the review years `years` = (first, last), either end open when None)."""
    query = (
        select(
            Snapshot.area_id.label("area_id"),
            Snapshot.review_year.label("year"),
            RosterEntry.person_ref.label("person"),
        )
        .join(RosterEntry, RosterEntry.snapshot_id == Snapshot.id)
        .where(Snapshot.kind == SnapshotKind.ANNUAL, RosterEntry.role.not_in(UNCOUNTED_ROLES))
    )
    if area_ids is not None:
        query = query.where(Snapshot.area_id.in_(area_ids))
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
    counted = _counted(area_ids, span).subquery("counted")
    years = _review_years(area_ids, span)
    distinct_total, average = _distinct_members(counted)
    members_in_all, with_one, with_three = _members_in_all_reviews(counted, len(years))
    under, threshold = _flags_by_year(area_ids, span, years)
    return {
        "review_years": years,
        "distinct_members_total": distinct_total,
        "average_distinct_members_per_partnership": average,
        "members_by_year": _by_year(
            db.session.execute(select(counted.c.year, func.count()).group_by(counted.c.year)).all(),
            years,
        ),
        "new_members_by_year": _new_members_by_year(counted, years),
        "members_in_all_reviews": members_in_all,
        "partnerships_with_member_in_all_reviews": with_one,
        "partnerships_with_3plus_members_in_all_reviews": with_three,
        "areas_under_criteria_by_year": under,
        "areas_at_threshold_by_year": threshold,
        "cases_returned_within_criteria": _returned_cases(area_ids, span),
    }


def _review_years(area_ids: list[int] | None, span: Span) -> list[int]:
    annual = _in_years(
        select(Snapshot.review_year).where(Snapshot.kind == SnapshotKind.ANNUAL), span
    )
    if area_ids is not None:
        annual = annual.where(Snapshot.area_id.in_(area_ids))
    return sorted(int(y) for y in db.session.scalars(annual.distinct()))


def _distinct_members(counted) -> tuple[int, float]:
    """Distinct counted members overall, and their mean per partnership (1 decimal)."""
    total = db.session.scalar(select(func.count(distinct(counted.c.person)))) or 0
    per_area = (
        select(counted.c.area_id, func.count(distinct(counted.c.person)).label("people"))
        .group_by(counted.c.area_id)
        .subquery()
    )
    average = db.session.scalar(select(func.avg(per_area.c.people)))
    return int(total), (round(float(average), 1) if average is not None else 0.0)


def _new_members_by_year(counted, years: list[int]) -> dict[int, int]:
    """A member is new in the first year they are a counted member anywhere in the programme."""
    everywhere = _counted(None).subquery("everywhere")
    first_seen = (
        select(everywhere.c.person, func.min(everywhere.c.year).label("first"))
        .group_by(everywhere.c.person)
        .subquery("first_year")
    )
    rows = db.session.execute(
        select(counted.c.year, func.count(distinct(counted.c.person)))
        .join(
            first_seen,
            and_(first_seen.c.person == counted.c.person, first_seen.c.first == counted.c.year),
        )
        .group_by(counted.c.year)
    ).all()
    return _by_year(rows, years)


def _members_in_all_reviews(counted, n_years: int) -> tuple[int, int, int]:
    """Persons counted in every review year; partnerships with one such person, with three."""
    if not n_years:
        return 0, 0, 0
    in_all = (
        select(counted.c.person)
        .group_by(counted.c.person)
        .having(func.count(distinct(counted.c.year)) == n_years)
        .subquery()
    )
    members = db.session.scalar(select(func.count()).select_from(in_all)) or 0
    core = (
        select(counted.c.area_id, counted.c.person)
        .group_by(counted.c.area_id, counted.c.person)
        .having(func.count(distinct(counted.c.year)) == n_years)
        .subquery()
    )
    core_per_area = (
        select(core.c.area_id, func.count().label("core")).group_by(core.c.area_id).subquery()
    )
    with_one, with_three = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((core_per_area.c.core >= 3, 1), else_=0)), 0),
        )
    ).one()
    return int(members), int(with_one or 0), int(with_three or 0)


def _flags_by_year(
    area_ids: list[int] | None, span: Span, years: list[int]
) -> tuple[dict[int, int], dict[int, int]]:
    """Areas whose annual review is under criteria, and at threshold, per year."""
    flags = _in_years(
        select(Snapshot.review_year, Snapshot.flag, func.count()).where(
            Snapshot.kind == SnapshotKind.ANNUAL, Snapshot.flag.is_not(None)
        ),
        span,
    )
    if area_ids is not None:
        flags = flags.where(Snapshot.area_id.in_(area_ids))
    rows = db.session.execute(flags.group_by(Snapshot.review_year, Snapshot.flag)).all()
    under = _by_year([(y, c) for y, f, c in rows if f == Flag.UNDER_CRITERIA], years)
    threshold = _by_year([(y, c) for y, f, c in rows if f == Flag.AT_THRESHOLD], years)
    return under, threshold


def _returned_cases(area_ids: list[int] | None, span: Span) -> int:
    returned = select(func.count()).select_from(Case).where(Case.returned_on.is_not(None))
    if area_ids is not None:
        returned = returned.where(Case.area_id.in_(area_ids))
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
        query = query.where(Case.opened_on >= date(first_year, 1, 1))
    if last_year is not None:
        query = query.where(Case.opened_on <= date(last_year, 12, 31))
    return query


def review_years(area_ids: Sequence[int] | None = None) -> list[int]:
    """Every annual review year stored (for these areas), oldest first."""
    query = select(Snapshot.review_year).where(Snapshot.kind == SnapshotKind.ANNUAL).distinct()
    if area_ids is not None:
        query = query.where(Snapshot.area_id.in_(list(area_ids)))
    return sorted(int(y) for y in db.session.scalars(query) if y is not None)


def returns_by_month(
    area_ids: Sequence[int] | None = None,
    first_year: int | None = None,
    last_year: int | None = None,
) -> list[tuple[str, int]]:
    """("YYYY-MM", number of cases that returned within criteria that month), oldest first;
    with a range of review years, only the cases opened in those years (as the insights)."""
    query = _opened_in(
        select(Case.returned_on).where(Case.returned_on.is_not(None)), first_year, last_year
    )
    if area_ids is not None:
        query = query.where(Case.area_id.in_(list(area_ids)))
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
    query = select(Area.id)
    if rep_id is not None:
        query = query.where(Area.rep_id == rep_id)
    if region:
        query = query.where(Area.rep_id.in_(select(User.id).where(User.region == region)))
    if codes:
        query = query.where(Area.code.in_([c.strip().upper() for c in codes]))
    return list(db.session.scalars(query.order_by(Area.id)))
