"""'Due soon': open actions due in the next days (and every overdue one), soonest first.

A rep sees the actions of their own open cases; the programme team sees all. Two queries
whatever the number of actions: a count and one page of rows. The count reads every matching
action (28,000 at 10× for the programme team: ~200 ms on SQLite), so it is kept per worker
until the next recorded change (app/queries/freshness.py); the page of rows walks the due-date
index and stops after one page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from app.extensions import db
from app.models import Action, ActionPlan, Area, Case, User
from app.queries import freshness
from app.rules.calendar import london_date
from app.rules.vocabulary import OPEN_STATUSES, ActionStatus

DUE_SOON_DAYS = 14
PER_PAGE = 50


@dataclass(frozen=True)
class DueAction:
    action_id: int
    description: str
    owner: str
    due_on: date
    overdue: bool
    days: int  # days from today to the due date (negative when overdue)
    case_id: int
    area_code: str
    area_name: str
    rep_name: str | None


@dataclass(frozen=True)
class DueSoonPage:
    rows: list[DueAction]
    total: int
    overdue_total: int
    page: int
    pages: int
    until: date


def _due_actions(user: User, until: date) -> Select:
    query = (
        select(Action)
        .join(ActionPlan, Action.plan_id == ActionPlan.id)
        .join(Case, ActionPlan.case_id == Case.id)
        .where(
            Action.status == ActionStatus.OPEN,
            Action.due_on.is_not(None),
            Action.due_on <= until,
            Case.status.in_(OPEN_STATUSES),
        )
    )
    if not user.is_programme:
        query = query.where(Case.rep_id == user.id)
    return query


def due_soon(
    user: User, now: datetime, page: int = 1, days: int = DUE_SOON_DAYS, per_page: int = PER_PAGE
) -> DueSoonPage:
    """One page of the open actions due within `days` of today (London), overdue first."""
    today = london_date(now)
    until = today + timedelta(days=days)
    scope = None if user.is_programme else user.id
    total, overdue_total = freshness.cached(
        "due_soon_counts", (scope, today, until), lambda: _counts(user, today, until)
    )
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        _due_actions(user, until)
        .join(Area, Case.area_id == Area.id)
        .outerjoin(User, Case.rep_id == User.id)
        .with_only_columns(
            Action.id,
            Action.description,
            Action.owner,
            Action.due_on,
            Case.id,
            Area.code,
            Area.name,
            User.name,
        )
        .order_by(Action.due_on, Area.code, Action.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return DueSoonPage(
        rows=[_due_action(row, today) for row in rows],
        total=total,
        overdue_total=overdue_total,
        page=page,
        pages=pages,
        until=until,
    )


def _counts(user: User, today: date, until: date) -> tuple[int, int]:
    """(matching actions, of which overdue)."""
    base = _due_actions(user, until).subquery()
    total, overdue_total = db.session.execute(
        select(func.count(), func.count().filter(base.c.due_on < today)).select_from(base)
    ).one()
    return total, overdue_total or 0


def _due_action(row: Any, today: date) -> DueAction:
    action_id, description, owner, due_on, case_id, code, name, rep_name = row
    return DueAction(
        action_id=action_id,
        description=description,
        owner=owner,
        due_on=due_on,
        overdue=due_on < today,
        days=(due_on - today).days,
        case_id=case_id,
        area_code=code,
        area_name=name,
        rep_name=rep_name,
    )
