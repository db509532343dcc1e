"""The dashboard's headline figures and its quarterly chart of open cases by flag.

An area's (or an open case's) flag at a past moment is that of the area's latest snapshot
effective on or before it (an in-year update wins a tie with an annual review): the case rules
keep an open case's flag equal to it, so the history comes from the snapshots themselves and
needs no log of flag changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, literal, or_, select, union_all

from app.extensions import db
from app.models import Area, Case, Snapshot
from app.queries.case_filters import CaseFilters
from app.queries.chart import Chart
from app.queries.dashboard import Figure
from app.rules.calendar import london_date
from app.rules.vocabulary import FLAG_WORDS, OPEN_STATUSES, Flag, SnapshotKind

QUARTERS_SHOWN = 8


@dataclass(frozen=True)
class Headlines:
    open_cases: Figure
    under_now: int  # areas whose current evaluation is under criteria
    under_year_ago: int  # ... whose evaluation on `year_ago` was
    year_ago: date
    returned_12_months: Figure  # cases that returned within criteria in the last 12 months


def _flag_on(area_id, day: date):
    """The flag of the area's latest snapshot effective on or before `day` (a scalar subquery)."""
    return (
        select(Snapshot.flag)
        .where(Snapshot.area_id == area_id, Snapshot.effective_on <= day)
        .order_by(Snapshot.effective_on.desc(), (Snapshot.kind == SnapshotKind.UPDATE).desc())
        .limit(1)
        .scalar_subquery()
    )


def headlines(now: datetime) -> Headlines:
    """Open cases, areas under criteria now and a year ago, returns in the last 12 months."""
    today = london_date(now)
    year_ago = _years_before(today, 1)
    open_cases = select(func.count(Case.id)).where(Case.status.in_(OPEN_STATUSES))
    returned = select(func.count(Case.id)).where(Case.returned_on > year_ago)
    under_now = select(func.count(Area.id)).where(Area.current_flag == Flag.UNDER_CRITERIA)
    under_then = select(func.count(Area.id)).where(
        _flag_on(Area.id, year_ago) == Flag.UNDER_CRITERIA
    )
    counts = db.session.execute(
        select(
            open_cases.scalar_subquery(),
            returned.scalar_subquery(),
            under_now.scalar_subquery(),
            under_then.scalar_subquery(),
        )
    ).one()
    return Headlines(
        open_cases=Figure(counts[0], CaseFilters()),
        returned_12_months=Figure(
            counts[1], CaseFilters(status="all", returned_from=year_ago + timedelta(days=1))
        ),
        under_now=counts[2],
        under_year_ago=counts[3],
        year_ago=year_ago,
    )


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def quarter_ends(today: date, count: int = QUARTERS_SHOWN) -> list[tuple[str, date]]:
    """The last `count` quarters, oldest first: (label, the day the count is taken). The current
    quarter is counted today ('so far')."""
    quarter = (today.month - 1) // 3
    year = today.year
    out = [(f"Q{quarter + 1} {year} (so far)", today)]
    for _ in range(count - 1):
        quarter -= 1
        if quarter < 0:
            quarter, year = 3, year - 1
        end_month = 3 * quarter + 3
        next_first = date(year + (end_month == 12), end_month % 12 + 1, 1)
        out.append((f"Q{quarter + 1} {year}", next_first - timedelta(days=1)))
    return out[::-1]


def open_by_flag_per_quarter(now: datetime, count: int = QUARTERS_SHOWN) -> Chart:
    """Cases open at the end of each of the last quarters, by their flag then (one query)."""
    quarters = quarter_ends(london_date(now), count)
    ended = func.coalesce(Case.resolved_on, Case.closed_on)
    selects = []
    for i, (_label, day) in enumerate(quarters):
        flag = func.coalesce(_flag_on(Case.area_id, day), Case.flag)
        selects.append(
            select(
                literal(i).label("quarter"),
                func.count().filter(flag == Flag.UNDER_CRITERIA).label("under"),
                func.count().filter(flag == Flag.AT_THRESHOLD).label("at"),
            ).where(Case.opened_on <= day, or_(ended.is_(None), and_(ended > day)))
        )
    rows = {q: (under, at) for q, under, at in db.session.execute(union_all(*selects))}
    return Chart(
        name="open-by-flag",
        title="Cases open at the end of each quarter, by flag",
        x_title="Quarter",
        x_labels=tuple(label for label, _day in quarters),
        series=(
            (FLAG_WORDS[Flag.UNDER_CRITERIA], tuple(rows.get(i, (0, 0))[0] for i in range(count))),
            (FLAG_WORDS[Flag.AT_THRESHOLD], tuple(rows.get(i, (0, 0))[1] for i in range(count))),
        ),
        stacked=True,
    )
