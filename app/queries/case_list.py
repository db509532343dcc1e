"""The programme team's case list: one page of filtered, sorted cases in two queries
(a count and the page rows, with the area, rep and overdue-action count joined in SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from math import ceil
from typing import NamedTuple

from sqlalchemy import Select, and_, case, func, select

from app.extensions import db
from app.models import Action, ActionPlan, Area, Case, User
from app.queries import freshness
from app.queries.case_filters import CaseFilters, apply_filters, overdue_clause
from app.rules.calendar import london_date
from app.rules.vocabulary import FLAGS, OPEN_STATUSES, STATUSES, USER_ROLES, ActionStatus, UserRole

PER_PAGE = 50


@dataclass(frozen=True)
class CaseRow:
    """One line of the case list."""

    case_id: int
    version: int
    area_code: str
    area_name: str
    flag: str
    reasons: tuple[str, ...]  # the area's current reasons, when they explain the case's flag
    status: str
    rep_id: int | None
    rep_name: str | None
    members: int | None
    residents: int | None
    opened_on: date
    returned_on: date | None
    resolved_on: date | None
    closed_on: date | None
    escalated_count: int
    last_activity_at: datetime
    overdue_actions: int

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def overdue_count(now: datetime):
    """A correlated count of the case's open actions past their due date (London today)."""
    return (
        select(func.count(Action.id))
        .join(ActionPlan, Action.plan_id == ActionPlan.id)
        .where(
            ActionPlan.case_id == Case.id,
            Action.status == ActionStatus.OPEN,
            Action.due_on < london_date(now),
        )
        .correlate(Case)
        .scalar_subquery()
    )


_MAY_BE_EMPTY = ("rep", "members", "returned")


def _sort_key(column: str, now: datetime):
    """The SQL expression a case-list column sorts by (ranks for flags and statuses)."""
    if column == "flag":
        return case({flag: rank for rank, flag in enumerate(FLAGS)}, value=Case.flag, else_=9)
    if column == "status":
        return case({s: rank for rank, s in enumerate(STATUSES)}, value=Case.status, else_=9)
    if column == "overdue":
        return overdue_count(now)
    return {
        "area": Area.code,
        "case": Case.id,
        "rep": User.name,
        "members": Area.current_members,
        "opened": Case.opened_on,
        "returned": Case.returned_on,
    }[column]


def _order(query: Select, sort: str, now: datetime) -> Select:
    """Order by the chosen sort; ties in area code, then case number order (a stable order,
    so pages never repeat or skip a case). Empty values sort last either way."""
    if sort == "activity":
        return query.order_by(Case.last_activity_at, Case.id)
    if sort == "urgency":
        # cases with overdue actions, then escalated ones, then the least recently touched
        return query.order_by(
            case((overdue_clause(now), 0), else_=1),
            case((Case.escalated_count > 0, 0), else_=1),
            Case.last_activity_at,
            Case.id,
        )
    column = sort.removeprefix("-")
    key = _sort_key(column, now)
    direction = key.desc() if sort.startswith("-") else key.asc()
    ties = [Case.id] if column in ("area", "case") else [Area.code, Case.id]
    if column in _MAY_BE_EMPTY:
        return query.order_by(case((key.is_(None), 1), else_=0), direction, *ties)
    return query.order_by(direction, *ties)


def _rows_query(filters: CaseFilters, now: datetime) -> Select:
    query = (
        select(
            Case.id.label("case_id"),
            Case.version,
            Area.code.label("area_code"),
            Area.name.label("area_name"),
            Case.flag,
            Area.current_flag.label("area_flag"),
            Area.current_reasons.label("area_reasons"),
            Case.status,
            Case.rep_id,
            User.name.label("rep_name"),
            Area.current_members.label("members"),
            Area.current_residents.label("residents"),
            Case.opened_on,
            Case.returned_on,
            Case.resolved_on,
            Case.closed_on,
            Case.escalated_count,
            Case.last_activity_at,
            overdue_count(now).label("overdue_actions"),
        )
        .join(Area, Case.area_id == Area.id)
        .outerjoin(User, Case.rep_id == User.id)
    )
    return _order(apply_filters(query, filters, now), filters.sort, now)


def _row(r) -> CaseRow:
    values = dict(r._mapping)
    area_flag, area_reasons = values.pop("area_flag"), values.pop("area_reasons")
    # The area's current reasons explain the case only while the flags agree.
    values["reasons"] = tuple(area_reasons or ()) if area_flag == values["flag"] else ()
    values["escalated_count"] = values["escalated_count"] or 0
    values["overdue_actions"] = values["overdue_actions"] or 0
    return CaseRow(**values)


def case_count(filters: CaseFilters, now: datetime) -> int:
    """How many cases match the filters (the same filters the rows use)."""
    query = apply_filters(select(func.count(Case.id)), filters, now)
    return db.session.scalar(query) or 0


def list_page(
    filters: CaseFilters, now: datetime, page: int = 1, per_page: int = PER_PAGE
) -> tuple[list[CaseRow], int]:
    """One page of cases matching `filters` and the total count. A page past the end shows
    the last page.

    Sorting by urgency weighs every matching case, so with the page cache on
    (app/queries/freshness.py) the order of the matching case ids is kept until the next
    recorded change, and a request reads only its page's rows by id; else two queries (a
    count and the page's rows) whatever the data."""
    if freshness.enabled():
        ids = freshness.cached(
            "case-list", (filters, london_date(now)), lambda: _ordered_ids(filters, now)
        )
        total = len(ids)
        page = min(max(1, page), max(1, ceil(total / per_page)))
        chosen = ids[(page - 1) * per_page : page * per_page]
        return _rows_by_id(chosen, now), total
    total = case_count(filters, now)
    page = min(max(1, page), max(1, ceil(total / per_page)))
    query = _rows_query(filters, now).limit(per_page).offset((page - 1) * per_page)
    return [_row(r) for r in db.session.execute(query)], total


def _ordered_ids(filters: CaseFilters, now: datetime) -> tuple[int, ...]:
    query = (
        select(Case.id).join(Area, Case.area_id == Area.id).outerjoin(User, Case.rep_id == User.id)
    )
    return tuple(db.session.scalars(_order(apply_filters(query, filters, now), filters.sort, now)))


def _rows_by_id(ids: tuple[int, ...], now: datetime) -> list[CaseRow]:
    if not ids:
        return []
    place = {case_id: n for n, case_id in enumerate(ids)}
    query = _rows_query(CaseFilters(status="all"), now).where(Case.id.in_(ids)).order_by(None)
    return sorted((_row(r) for r in db.session.execute(query)), key=lambda r: place[r.case_id])


def all_case_rows(filters: CaseFilters, now: datetime) -> list[CaseRow]:
    """Every case matching `filters`, in the chosen order (for the CSV export): one query."""
    return [_row(r) for r in db.session.execute(_rows_query(filters, now))]


def unassigned_open_cases(now: datetime) -> list[CaseRow]:
    """Open cases with no rep, oldest first (the programme team's queue): one query."""
    query = _rows_query(CaseFilters(status=ActionStatus.OPEN, unassigned=True, sort="opened"), now)
    return [_row(r) for r in db.session.execute(query)]


class RepChoice(NamedTuple):
    """A user a case or area may be given to (what the rep menus show)."""

    id: int
    name: str
    role: str
    region: str | None


def assignable_users() -> list[RepChoice]:
    """The reps a case or area may be given to: active reps only, by name (plain rows, not
    ORM objects: the case list shows 500 of them at ten times the programme)."""
    return [
        RepChoice(*row)
        for row in db.session.execute(
            select(User.id, User.name, User.role, User.region)
            .where(and_(User.active.is_(True), User.role == UserRole.REP))
            .order_by(User.name, User.id)
        )
    ]


def rep_choices() -> list[tuple[int, str]]:
    """(id, name) of every user who has or may have cases, for the rep filter: one query."""
    rows = db.session.execute(
        select(User.id, User.name, User.active)
        .where(User.role.in_(USER_ROLES))
        .order_by(case((User.role == UserRole.REP, 0), else_=1), User.name, User.id)
    )
    return [(uid, name if active else f"{name} (inactive)") for uid, name, active in rows]


def region_choices() -> list[str]:
    """Distinct regions of users (the 'region of reps' filter): one query."""
    return list(
        db.session.scalars(
            select(User.region).where(User.region.is_not(None)).distinct().order_by(User.region)
        )
    )
