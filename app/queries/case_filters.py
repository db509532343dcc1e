"""The case-list filter contract: the case list page, the dashboard counts and the CSV export
all filter through here, so a number on the dashboard lists exactly that many cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, exists, or_, select

from app.models import Action, ActionPlan, Area, Case, Snapshot, User
from app.operations.text import parse_count
from app.rules.calendar import london_date
from app.rules.vocabulary import FLAGS, OPEN_STATUSES, STATUSES
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
        for name in _DATE_FIELDS:
            raw = (args.get(name) or "").strip()
            if raw:
                try:
                    values[name] = date.fromisoformat(raw)
                except ValueError:
                    errors.append(f"{name.replace('_', ' ')}: '{raw}' is not a date (YYYY-MM-DD)")
        for name in _BOOL_FIELDS:
            values[name] = (args.get(name) or "").lower() in ("1", "true", "yes", "on")
        for name in ("rep_id", "cohort"):
            raw = (args.get(name) or "").strip()
            if raw:
                if parse_count(raw) is not None:
                    values[name] = parse_count(raw)
                else:
                    errors.append(f"{name.replace('_', ' ')}: '{raw}' is not a number")
        status = (args.get("status") or "open").strip()
        if status in (*STATUSES, "open", "all"):
            values["status"] = status
        else:
            errors.append(f"status: unknown status '{status}'")
        flag = (args.get("flag") or "").strip()
        if flag in FLAGS:
            values["flag"] = flag
        elif flag:
            errors.append(f"flag: unknown flag '{flag}'")
        reached = (args.get("reached") or "").strip()
        if reached in ("contacted", "plan_agreed"):
            values["reached"] = reached
        elif reached:
            errors.append(f"reached: unknown milestone '{reached}'")
        sort = (args.get("sort") or "urgency").strip()
        values["sort"] = sort if sort in SORTS else "urgency"
        for name in ("region", "area"):
            raw = (args.get(name) or "").strip()
            if raw:
                values[name] = raw
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


def needs_a_rep():
    """A case needs a rep when it has none or its rep's account is deactivated."""
    inactive = select(User.id).where(User.active.is_(False))
    return or_(Case.rep_id.is_(None), Case.rep_id.in_(inactive))


def overdue_clause(now: datetime):
    """Cases with an open action whose due date is before today (London)."""
    return exists(
        select(Action.id)
        .join(ActionPlan, Action.plan_id == ActionPlan.id)
        .where(
            ActionPlan.case_id == Case.id,
            Action.status == "open",
            Action.due_on < london_date(now),
        )
    )


def apply_filters(query: Select, f: CaseFilters, now: datetime) -> Select:
    """Narrow a select over Case (Area may be joined here) by the filters."""
    if f.status == "open":
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif f.status != "all":
        query = query.where(Case.status == f.status)
    if f.flag:
        query = query.where(Case.flag == f.flag)
    if f.rep_id is not None:
        query = query.where(Case.rep_id == f.rep_id)
    if f.region:
        query = query.where(Case.rep_id.in_(select(User.id).where(User.region == f.region)))
    if f.area:
        term = f.area.strip()
        query = query.where(
            Case.area_id.in_(
                select(Area.id).where(or_(Area.code == term.upper(), Area.name.ilike(f"%{term}%")))
            )
        )
    if f.unassigned:
        query = query.where(needs_a_rep())
    if f.overdue:
        query = query.where(overdue_clause(now))
    if f.returned:
        query = query.where(Case.returned_on.is_not(None))
    if f.escalated:
        query = query.where(Case.escalated_count > 0)
    if f.stale:
        cutoff = now - timedelta(days=stale_after_days())
        query = query.where(Case.status.in_(OPEN_STATUSES), Case.last_activity_at < cutoff)
    if f.reached == "contacted":
        query = query.where(Case.contacted_at.is_not(None))
    elif f.reached == "plan_agreed":
        query = query.where(Case.plan_agreed_at.is_not(None))
    if f.cohort is not None:
        query = query.where(
            Case.opened_snapshot_id.in_(
                select(Snapshot.id).where(
                    and_(Snapshot.kind == "annual", Snapshot.review_year == f.cohort)
                )
            )
        )
    for column, start, end in (
        (Case.opened_on, f.opened_from, f.opened_to),
        (Case.returned_on, f.returned_from, f.returned_to),
        (Case.resolved_on, f.resolved_from, f.resolved_to),
        (Case.last_escalated_on, f.escalated_from, f.escalated_to),
    ):
        if start is not None:
            query = query.where(column >= start)
        if end is not None:
            query = query.where(column <= end)
    return query


def filtered_cases(f: CaseFilters, now: datetime) -> Select:
    """A select of Case rows matching the filters (no ordering, no access control)."""
    return apply_filters(select(Case), f, now)
