"""The programme team's recovery dashboard, computed in a fixed number of queries.

Every number on the dashboard is a count of the cases that a CaseFilters selects, counted by
running that same CaseFilters through `apply_filters`, so the number and the case list it links
to cannot disagree. Grouped counts (per rep, per cohort year) apply the filters without the
grouped field and group by it, which selects exactly what the per-group CaseFilters selects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from statistics import median

from sqlalchemy import Integer, and_, distinct, func, literal_column, or_, select, union_all

from app.extensions import db
from app.models import Action, ActionPlan, Case, CaseEvent, Snapshot, User
from app.queries.case_filters import CaseFilters, apply_filters
from app.rules.calendar import london_date
from app.rules.vocabulary import (
    FLAGS,
    OPEN_STATUSES,
    PASSIVE_EVENT_KINDS,
    ActionStatus,
    SnapshotKind,
    UserRole,
)

WINDOWS = (30, 90, 365)
# The recovery funnel of a review year's cohort: (key, label, filters without the cohort).
FUNNEL_STAGES = (
    ("flagged", "Flagged", CaseFilters(status="all")),
    ("contacted", "Contacted", CaseFilters(status="all", reached="contacted")),
    ("plan_agreed", "Plan agreed", CaseFilters(status="all", reached="plan_agreed")),
    ("returned", "Returned within criteria", CaseFilters(status="all", returned=True)),
    ("resolved", "Resolved", CaseFilters(status="resolved")),
)


@dataclass(frozen=True)
class Figure:
    """A number of cases and the filters that list exactly those cases."""

    count: int
    filters: CaseFilters


@dataclass(frozen=True)
class Window:
    """Case movements over the last `days` days (from `start`, London dates)."""

    days: int
    start: date
    new: Figure
    escalated: Figure
    returned: Figure
    resolved: Figure


@dataclass(frozen=True)
class RepLoad:
    rep_id: int
    name: str
    region: str | None
    active: bool
    open_cases: Figure
    overdue_actions: int  # open actions past due on the rep's open cases
    overdue_cases: Figure  # the open cases that have them
    last_activity_at: datetime | None  # the rep's latest casework event (emails excluded)
    days_since_activity: int | None


@dataclass(frozen=True)
class CohortFunnel:
    year: int
    stages: tuple[tuple[str, str, Figure], ...]  # (key, label, figure)
    median_days_to_return: float | None


@dataclass(frozen=True)
class Dashboard:
    today: date
    open_by_flag_status: dict[tuple[str, str], Figure]
    open_by_flag: dict[str, Figure]
    open_by_status: dict[str, Figure]
    open_total: Figure
    windows: tuple[Window, ...]
    unassigned: Figure
    stale: Figure
    reps: tuple[RepLoad, ...]
    funnel: tuple[CohortFunnel, ...]
    returned: Figure  # every case that returned within criteria (the median's population)
    median_days_to_return: float | None


def count_cases(filters: Sequence[CaseFilters], now: datetime) -> list[int]:
    """How many cases each CaseFilters selects: one query whatever the number of filters."""
    if not filters:
        return []
    columns = [
        apply_filters(select(func.count(Case.id)), f, now).scalar_subquery().label(f"c{i}")
        for i, f in enumerate(filters)
    ]
    row = db.session.execute(select(*columns)).one()
    return [int(value or 0) for value in row]


def _grouped_counts(column, filters: CaseFilters, now: datetime, *joins) -> dict:
    query = select(column, func.count(Case.id)).select_from(Case)
    for target, onclause in joins:
        query = query.join(target, onclause)
    query = apply_filters(query, filters, now).group_by(column)
    return {key: int(count) for key, count in db.session.execute(query)}


def _headline_filters(today: date) -> dict[str, CaseFilters]:
    """Name → filters of every ungrouped dashboard number."""
    named: dict[str, CaseFilters] = {"open": CaseFilters()}
    for flag in FLAGS:
        named[f"flag:{flag}"] = CaseFilters(flag=flag)
        for status in OPEN_STATUSES:
            named[f"cell:{flag}:{status}"] = CaseFilters(status=status, flag=flag)
    for status in OPEN_STATUSES:
        named[f"status:{status}"] = CaseFilters(status=status)
    for days in WINDOWS:
        start = today - timedelta(days=days)
        named[f"new:{days}"] = CaseFilters(status="all", opened_from=start)
        named[f"escalated:{days}"] = CaseFilters(status="all", escalated_from=start)
        named[f"returned:{days}"] = CaseFilters(status="all", returned_from=start)
        named[f"resolved:{days}"] = CaseFilters(status="resolved", resolved_from=start)
    named["unassigned"] = CaseFilters(unassigned=True)
    named["stale"] = CaseFilters(stale=True)
    named["returned"] = CaseFilters(status="all", returned=True)
    return named


def _rep_loads(now: datetime) -> tuple[RepLoad, ...]:
    """Each rep's open cases, overdue actions and last activity: five queries."""
    today = london_date(now)
    open_filters = CaseFilters()
    open_cases = _grouped_counts(Case.rep_id, open_filters, now)
    # Overdue actions and the cases holding them, in one pass over the open actions; the
    # distinct cases are exactly those CaseFilters(overdue=True) lists (an open action due
    # before today, on an open case).
    overdue_actions: dict = {}
    overdue_cases: dict = {}
    for rep_id, actions, cases in db.session.execute(
        apply_filters(
            select(Case.rep_id, func.count(Action.id), func.count(distinct(Case.id)))
            .select_from(Case)
            .join(ActionPlan, ActionPlan.case_id == Case.id)
            .join(Action, Action.plan_id == ActionPlan.id)
            .where(Action.status == ActionStatus.OPEN, Action.due_on < today),
            open_filters,
            now,
        ).group_by(Case.rep_id)
    ):
        overdue_actions[rep_id] = int(actions)
        overdue_cases[rep_id] = int(cases)
    last_activity = dict(
        db.session.execute(
            select(CaseEvent.actor_id, func.max(CaseEvent.created_at))
            .where(CaseEvent.actor_id.is_not(None), CaseEvent.kind.not_in(PASSIVE_EVENT_KINDS))
            .group_by(CaseEvent.actor_id)
        ).all()
    )
    # Active reps, and anyone else (a deactivated rep, say) who still holds open cases.
    users = db.session.execute(
        select(User.id, User.name, User.region, User.active).where(
            or_(
                and_(User.role == UserRole.REP, User.active.is_(True)),
                User.id.in_([uid for uid in open_cases if uid is not None]),
            )
        )
    ).all()
    loads = []
    for uid, name, region, active in users:
        last = _aware(last_activity.get(uid))
        days = (today - london_date(last)).days if last else None
        loads.append(
            RepLoad(
                rep_id=uid,
                name=name,
                region=region,
                active=bool(active),
                open_cases=Figure(open_cases.get(uid, 0), CaseFilters(rep_id=uid)),
                overdue_actions=int(overdue_actions.get(uid, 0)),
                overdue_cases=Figure(
                    overdue_cases.get(uid, 0), CaseFilters(rep_id=uid, overdue=True)
                ),
                last_activity_at=last,
                days_since_activity=days,
            )
        )
    loads.sort(key=lambda r: (-r.overdue_actions, -r.open_cases.count, r.name.lower(), r.rep_id))
    return tuple(loads)


def _aware(value: datetime | None) -> datetime | None:
    """max() over a UTCDateTime column comes back untyped on SQLite: restore UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _cohort_join():
    return (
        Snapshot,
        and_(Snapshot.id == Case.opened_snapshot_id, Snapshot.kind == SnapshotKind.ANNUAL),
    )


def _funnel(now: datetime, days_by_year: dict[int, list[int]]) -> tuple[CohortFunnel, ...]:
    """Each cohort's funnel: one query (a union of one grouped count per stage)."""
    target, onclause = _cohort_join()
    parts = [
        apply_filters(
            select(
                literal_column(str(i), Integer).label("stage"),
                Snapshot.review_year.label("year"),
                func.count(Case.id).label("n"),
            )
            .select_from(Case)
            .join(target, onclause),
            filters,
            now,
        ).group_by(Snapshot.review_year)
        for i, (_key, _label, filters) in enumerate(FUNNEL_STAGES)
    ]
    counts: dict[tuple[int, int], int] = {}
    for stage, year, n in db.session.execute(union_all(*parts)):
        counts[(int(stage), int(year))] = int(n)
    years = sorted({year for stage, year in counts if stage == 0}, reverse=True)
    return tuple(
        CohortFunnel(
            year=year,
            stages=tuple(
                (key, label, Figure(counts.get((i, year), 0), replace(filters, cohort=year)))
                for i, (key, label, filters) in enumerate(FUNNEL_STAGES)
            ),
            median_days_to_return=_median(days_by_year.get(year, [])),
        )
        for year in years
    )


def _days_to_return(now: datetime, filters: CaseFilters) -> tuple[list[int], dict[int, list[int]]]:
    """Days from opening to return within criteria of the returned cases, overall and by
    cohort year: one query (one row per returned case; medians are not portable SQL)."""
    target, onclause = _cohort_join()
    query = apply_filters(
        select(Case.opened_on, Case.returned_on, Snapshot.review_year)
        .select_from(Case)
        .outerjoin(target, onclause),
        filters,
        now,
    )
    overall: list[int] = []
    by_year: dict[int, list[int]] = {}
    for opened_on, returned_on, year in db.session.execute(query):
        days = (returned_on - opened_on).days
        overall.append(days)
        if year is not None:
            by_year.setdefault(int(year), []).append(days)
    return overall, by_year


def _median(values: list[int]) -> float | None:
    return float(median(values)) if values else None


def dashboard(now: datetime) -> Dashboard:
    """Everything the dashboard shows, in eight queries whatever the data."""
    today = london_date(now)
    named = _headline_filters(today)
    keys = list(named)
    counts = dict(zip(keys, count_cases([named[k] for k in keys], now), strict=True))

    def fig(key: str) -> Figure:
        return Figure(counts[key], named[key])

    overall_days, days_by_year = _days_to_return(now, named["returned"])
    return Dashboard(
        today=today,
        open_by_flag_status={
            (flag, status): fig(f"cell:{flag}:{status}")
            for flag in FLAGS
            for status in OPEN_STATUSES
        },
        open_by_flag={flag: fig(f"flag:{flag}") for flag in FLAGS},
        open_by_status={status: fig(f"status:{status}") for status in OPEN_STATUSES},
        open_total=fig("open"),
        windows=tuple(
            Window(
                days=days,
                start=today - timedelta(days=days),
                new=fig(f"new:{days}"),
                escalated=fig(f"escalated:{days}"),
                returned=fig(f"returned:{days}"),
                resolved=fig(f"resolved:{days}"),
            )
            for days in WINDOWS
        ),
        unassigned=fig("unassigned"),
        stale=fig("stale"),
        reps=_rep_loads(now),
        funnel=_funnel(now, days_by_year),
        returned=fig("returned"),
        median_days_to_return=_median(overall_days),
    )
