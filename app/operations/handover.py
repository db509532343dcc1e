"""Handing a leaving user's work to a successor when their account is deactivated: every area
they are the rep of and every open case assigned to them move in one transaction (owned by the
caller), each case with its own event, and the successor gets one mail listing them all."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Area, Case, User
from app.operations.assignment import assign_case, check_assignable, set_area_rep
from app.operations.errors import UserError
from app.operations.rep_notices import queue_new_cases_notice
from app.operations.users import deactivate_user
from app.rules.vocabulary import OPEN_STATUSES, UserRole

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Workload:
    areas: int
    open_cases: int

    @property
    def any(self) -> bool:
        return bool(self.areas or self.open_cases)


@dataclass(frozen=True)
class Handover:
    areas: int
    cases: int
    successor: User | None
    notified: bool = False  # the successor was sent one mail listing what they took over


def workload(user: User) -> Workload:
    """How many areas and open cases `user` holds (two counts)."""
    areas = db.session.scalar(select(func.count(Area.id)).where(Area.rep_id == user.id)) or 0
    cases = db.session.scalar(
        select(func.count(Case.id)).where(Case.rep_id == user.id, Case.status.in_(OPEN_STATUSES))
    )
    return Workload(areas, cases or 0)


def deactivate_with_handover(
    user: User, successor: User | None, *, actor: User, now: datetime
) -> Handover:
    """Move `user`'s areas and open cases to `successor` (None: the unassigned queue), then
    deactivate `user`."""
    if successor is not None and successor.id == user.id:
        raise UserError(f"Choose someone other than {user.name} to take over.")
    if successor is not None and successor.role != UserRole.REP:
        raise UserError("Choose a rep to take over, or the unassigned queue.")
    check_assignable(successor)
    areas = list(db.session.scalars(select(Area).where(Area.rep_id == user.id).order_by(Area.code)))
    listed = successor is not None
    moved: list[Case] = []
    for area in areas:
        change = set_area_rep(
            area, successor, actor=actor, now=now, also_open_case=True, listed=listed
        )
        if change.case_event is not None:
            moved.append(change.case_event.case)
    for case in db.session.scalars(
        select(Case).where(Case.rep_id == user.id, Case.status.in_(OPEN_STATUSES))
    ):
        if assign_case(case, successor, actor=actor, now=now, listed=listed) is not None:
            moved.append(case)
    deactivate_user(user, actor=actor, now=now)
    notified = queue_new_cases_notice(
        successor,
        moved,
        now,
        f"handover:{user.id}:{now.isoformat()}",
        areas=areas,
        handed_over_by=user.name,
    )
    moved_cases = len(moved)
    log.info(
        "handover: user %s deactivated by %s; %d areas and %d open cases to %s",
        user.id,
        actor.id,
        len(areas),
        moved_cases,
        successor.id if successor else "the unassigned queue",
    )
    return Handover(len(areas), moved_cases, successor, notified)
