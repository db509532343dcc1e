"""'My cases': a user's open cases, most urgent first, in two queries whatever their number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case as sql_case
from sqlalchemy import select

from app.extensions import db
from app.models import Action, ActionPlan, Area, Case, User
from app.queries.case_filters import overdue_clause
from app.rules.calendar import london_date
from app.rules.distance import describe_distance, distance_to_criteria
from app.rules.vocabulary import (
    FLAG_WORDS,
    OPEN_STATUSES,
    REASON_WORDS,
    STATUS_WORDS,
    ActionStatus,
    CaseStatus,
)
from app.settings import stale_after_days


@dataclass(frozen=True)
class NextAction:
    description: str
    due_on: date | None
    overdue: bool


@dataclass(frozen=True)
class MyCaseRow:
    case_id: int
    area_code: str
    area_name: str
    flag: str
    flag_words: str
    reasons: tuple[str, ...]  # in plain words
    status: str
    status_words: str
    members: int | None
    residents: int | None
    distance: str | None  # what would bring it within criteria, in words
    overdue: bool  # has an open action past its due date
    escalated: bool
    new: bool  # not yet contacted: the rep has still to make the first contact
    stale: bool  # no activity for REMINDER_STALE_AFTER_DAYS
    last_activity_at: datetime
    next_action: NextAction | None


def my_cases(user: User, now: datetime) -> list[MyCaseRow]:
    """The open cases assigned to `user`: overdue actions first, then escalated cases, then
    the rest; within each, new (not yet contacted) cases first, then the longest untouched."""
    overdue = overdue_clause(now)
    escalated = Case.escalated_count > 0
    # Plain columns, not ORM objects: this page is a rep's most visited one.
    query = (
        select(
            Case.id,
            Area.code,
            Area.name,
            Case.flag,
            Area.current_reasons,
            Case.status,
            Area.current_members,
            Area.current_residents,
            Case.escalated_count,
            Case.last_activity_at,
            overdue.label("overdue"),
        )
        .join(Area, Area.id == Case.area_id)
        .where(Case.rep_id == user.id, Case.status.in_(OPEN_STATUSES))
        .order_by(
            sql_case((overdue, 0), else_=1),
            sql_case((escalated, 0), else_=1),
            # Within the same urgency, cases nobody has contacted yet come first.
            sql_case((Case.status == CaseStatus.NEW, 0), else_=1),
            Case.last_activity_at,
            Case.id,
        )
    )
    rows = db.session.execute(query).all()
    next_actions = _next_actions([row.id for row in rows], london_date(now))
    stale_before = now - timedelta(days=stale_after_days())
    return [
        MyCaseRow(
            case_id=r.id,
            area_code=r.code,
            area_name=r.name,
            flag=r.flag,
            flag_words=FLAG_WORDS.get(r.flag, r.flag),
            reasons=tuple(REASON_WORDS.get(x, x) for x in r.current_reasons or ()),
            status=r.status,
            status_words=STATUS_WORDS[r.status],
            members=r.current_members,
            residents=r.current_residents,
            distance=_distance_words(r.current_members, r.current_residents),
            overdue=bool(r.overdue),
            escalated=(r.escalated_count or 0) > 0,
            new=r.status == CaseStatus.NEW,
            stale=r.last_activity_at < stale_before,
            last_activity_at=r.last_activity_at,
            next_action=next_actions.get(r.id),
        )
        for r in rows
    ]


def _distance_words(members: int | None, residents: int | None) -> str | None:
    if members is None or residents is None:
        return None
    return describe_distance(distance_to_criteria(members, residents))


def _next_actions(case_ids: list[int], today: date) -> dict[int, NextAction]:
    """Each case's open action due soonest (undated ones last), in one query."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(ActionPlan.case_id, Action.description, Action.due_on)
        .join(Action.plan)
        .where(ActionPlan.case_id.in_(case_ids), Action.status == ActionStatus.OPEN)
        .order_by(ActionPlan.case_id, Action.due_on.is_(None), Action.due_on, Action.id)
    )
    found: dict[int, NextAction] = {}
    for case_id, description, due_on in rows:
        if case_id not in found:
            overdue = due_on is not None and due_on < today
            found[case_id] = NextAction(description, due_on, overdue)
    return found
