"""The case-list filter contract: the case list page, the dashboard counts and the CSV export
all filter through here, so a number on the dashboard lists exactly that many cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, exists, or_, select, union
from sqlalchemy.orm import aliased

from app.models import Action, ActionPlan, Area, Case, Snapshot, User
from app.operations.text import parse_count
from app.rules.calendar import london_date
from app.rules.vocabulary import (
    FLAGS,
    OPEN_STATUSES,
    STATUSES,
    ActionStatus,
    CaseStatus,
    SnapshotKind,
)
from app.settings import stale_after_days

# The case list's orders: 'urgency' (the default) and 'activity' are named orders; every other
# key is a sortable column, ascending, or descending with a leading '-' (MOJ sortable table).
SORT_COLUMNS = {
    "area": "Area",
    "case": "Case",
    "flag": "Flag and reasons",
    "status": "Status",
    "rep": "Rep",
    "members": "Members / residents",
    "opened": "Opened",
    "returned": "Returned",
    "overdue": "Overdue actions",
}
SORTS = {
    "urgency": "Most urgent first",
    "activity": "Least recently touched",
    "area": "Area code, A to Z",
    "-area": "Area code, Z to A",
    "case": "Case number, lowest first",
    "-case": "Case number, highest first",
    "flag": "Flag, under criteria first",
    "-flag": "Flag, at threshold first",
    "status": "Status, new first",
    "-status": "Status, closed first",
    "rep": "Rep, A to Z",
    "-rep": "Rep, Z to A",
    "members": "Fewest members first",
    "-members": "Most members first",
    "opened": "Oldest first",
    "-opened": "Newest first",
    "returned": "Returned, earliest first",
    "-returned": "Returned, latest first",
    "overdue": "Fewest overdue actions first",
    "-overdue": "Most overdue actions first",
}
_DATE_FIELDS = (
    "opened_from",
    "opened_to",
    "returned_from",
    "returned_to",
    "resolved_from",
    "resolved_to",
    "escalated_from",
    "escalated_to",
)
_BOOL_FIELDS = ("unassigned", "overdue", "returned", "escalated", "stale")


@dataclass(frozen=True)
class CaseFilters:
    """Filters of the case list. `status` is a status, 'open' (default) or 'all'."""

    status: str = "open"
    flag: str | None = None
    rep_id: int | None = None
    region: str | None = None
    area: str | None = None  # code or part of the name
    unassigned: bool = False
    overdue: bool = False  # has an open action past its due date
    returned: bool = False  # returned within criteria at some point
    escalated: bool = False  # escalated at least once
    stale: bool = False  # open, no activity for REMINDER_STALE_AFTER_DAYS
    reached: str | None = None  # 'contacted' or 'plan_agreed': reached that status at some point
    cohort: int | None = None  # opened by that year's annual review
    opened_from: date | None = None
    opened_to: date | None = None
    returned_from: date | None = None
    returned_to: date | None = None
    resolved_from: date | None = None
    resolved_to: date | None = None
    escalated_from: date | None = None
    escalated_to: date | None = None
    sort: str = "urgency"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> tuple[CaseFilters, list[str]]:
        """Parse query-string arguments; bad values are dropped and named in the errors."""
        values: dict[str, object] = {}
        errors: list[str] = []
        raw = {name: (args.get(name) or "").strip() for name in _FIELD_NAMES}
        _parse_dates(raw, values, errors)
        _parse_numbers(raw, values, errors)
        for name in _BOOL_FIELDS:
            values[name] = raw[name].lower() in ("1", "true", "yes", "on")
        for name, (choices, word) in _CHOICES.items():
            if raw[name] in choices:
                values[name] = raw[name]
            elif raw[name]:
                errors.append(f"{name}: unknown {word} '{raw[name]}'")
        values["sort"] = raw["sort"] if raw["sort"] in SORTS else "urgency"
        for name in ("region", "area"):
            if raw[name]:
                values[name] = raw[name]
        return cls(**values), errors  # type: ignore[arg-type]

    def to_args(self, **changes: object) -> dict[str, str]:
        """Query-string arguments for these filters (with changes), omitting defaults."""
        args: dict[str, str] = {}
        defaults = CaseFilters()
        for f in fields(self):
            value = changes.get(f.name, getattr(self, f.name))
            if value == getattr(defaults, f.name) or value in (None, False, ""):
                continue
            args[f.name] = "1" if value is True else str(value)
        return args


_FIELD_NAMES = tuple(f.name for f in fields(CaseFilters))
# Fields that take one of a fixed set of values: (the values, the word for an unknown one).
_CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    "status": ((*STATUSES, "open", "all"), "status"),
    "flag": (tuple(FLAGS), "flag"),
    "reached": ((CaseStatus.CONTACTED, CaseStatus.PLAN_AGREED), "milestone"),
}


def _parse_dates(raw: Mapping[str, str], values: dict[str, object], errors: list[str]) -> None:
    for name in _DATE_FIELDS:
        if raw[name]:
            try:
                values[name] = date.fromisoformat(raw[name])
            except ValueError:
                errors.append(f"{name.replace('_', ' ')}: '{raw[name]}' is not a date (YYYY-MM-DD)")


def _parse_numbers(raw: Mapping[str, str], values: dict[str, object], errors: list[str]) -> None:
    for name in ("rep_id", "cohort"):
        if raw[name]:
            number = parse_count(raw[name])
            if number is not None:
                values[name] = number
            else:
                errors.append(f"{name.replace('_', ' ')}: '{raw[name]}' is not a number")


def needs_a_rep():
    """A case needs a rep when it has none or its rep's account is deactivated.

    One uncorrelated IN over both, each found by the cases' rep_id index (it holds the
    cases with no rep too): an OR of the two had PostgreSQL read every case to test it."""
    inactive = select(User.id).where(User.active.is_(False))
    other = aliased(Case)
    return Case.id.in_(
        union(
            select(other.id).where(other.rep_id.is_(None)),
            select(other.id).where(other.rep_id.in_(inactive)),
        )
    )


def overdue_clause(now: datetime):
    """Cases with an open action whose due date is before today (London)."""
    return exists(
        select(Action.id)
        .join(ActionPlan, Action.plan_id == ActionPlan.id)
        .where(
            ActionPlan.case_id == Case.id,
            Action.status == ActionStatus.OPEN,
            Action.due_on < london_date(now),
        )
    )


def apply_filters(query: Select, f: CaseFilters, now: datetime) -> Select:
    """Narrow a select over Case (Area may be joined here) by the filters."""
    for clause in _status_clauses(f, now) + _choice_clauses(f) + _date_clauses(f):
        query = query.where(clause)
    return query


def _status_clauses(f: CaseFilters, now: datetime) -> list:
    """Where the case stands: status, rep, lateness."""
    clauses: list = []
    if f.status == "open":
        clauses.append(Case.status.in_(OPEN_STATUSES))
    elif f.status != "all":
        clauses.append(Case.status == f.status)
    if f.unassigned:
        clauses.append(needs_a_rep())
    if f.overdue:
        clauses.append(overdue_clause(now))
    if f.stale:
        cutoff = now - timedelta(days=stale_after_days())
        clauses += [Case.status.in_(OPEN_STATUSES), Case.last_activity_at < cutoff]
    return clauses


def _choice_clauses(f: CaseFilters) -> list:
    """The chosen flag, rep, region, area, cohort and the case's history."""
    clauses: list = []
    if f.flag:
        clauses.append(Case.flag == f.flag)
    if f.rep_id is not None:
        clauses.append(Case.rep_id == f.rep_id)
    if f.region:
        clauses.append(Case.rep_id.in_(select(User.id).where(User.region == f.region)))
    if f.area:
        term = f.area.strip()
        named = or_(Area.code == term.upper(), Area.name.ilike(f"%{term}%"))
        clauses.append(Case.area_id.in_(select(Area.id).where(named)))
    if f.cohort is not None:
        review = and_(Snapshot.kind == SnapshotKind.ANNUAL, Snapshot.review_year == f.cohort)
        clauses.append(Case.opened_snapshot_id.in_(select(Snapshot.id).where(review)))
    if f.returned:
        clauses.append(Case.returned_on.is_not(None))
    if f.escalated:
        clauses.append(Case.escalated_count > 0)
    if f.reached:
        clauses.append(_MILESTONE_COLUMNS[f.reached].is_not(None))
    return clauses


_MILESTONE_COLUMNS = {
    CaseStatus.CONTACTED.value: Case.contacted_at,
    CaseStatus.PLAN_AGREED.value: Case.plan_agreed_at,
}


def _date_clauses(f: CaseFilters) -> list:
    clauses: list = []
    for column, start, end in (
        (Case.opened_on, f.opened_from, f.opened_to),
        (Case.returned_on, f.returned_from, f.returned_to),
        (Case.resolved_on, f.resolved_from, f.resolved_to),
        (Case.last_escalated_on, f.escalated_from, f.escalated_to),
    ):
        if start is not None:
            clauses.append(column >= start)
        if end is not None:
            clauses.append(column <= end)
    return clauses


def filtered_cases(f: CaseFilters, now: datetime) -> Select:
    """A select of Case rows matching the filters (no ordering, no access control)."""
    return apply_filters(select(Case), f, now)
