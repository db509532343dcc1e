"""Bulk changes from the programme case list: assign, unassign or close many cases, each under
its own version check in its own savepoint, so one stale or closed case is refused with its
reason and the others still change. One event per case; the rep given cases gets one mail
listing them all (not one per case). The caller owns the transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Case, User
from app.operations.assignment import assign_case, check_assignable, close_case
from app.operations.errors import UserError
from app.operations.rep_notices import queue_new_cases_notice

log = logging.getLogger(__name__)

BULK_ACTIONS = {
    "assign": "Assign to a rep",
    "unassign": "Move to the unassigned queue",
    "close": "Close with a reason",
}


@dataclass
class BulkOutcome:
    changed: list[tuple[int, str, str]] = field(default_factory=list)  # id, area code, what
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # id, area code, why
    notified: bool = False  # the rep given the cases was sent one mail listing them
    rep_name: str | None = None


def bulk_change(
    items: Sequence[tuple[int, int | None]],
    action: str,
    *,
    actor: User,
    now: datetime,
    rep: User | None = None,
    reason: str = "",
) -> BulkOutcome:
    """Apply `action` to each (case id, version seen); a None version means 'as it is now'
    (the 'all matching these filters' choice)."""
    if action not in BULK_ACTIONS:
        raise UserError("Choose what to do with the selected cases.")
    if action == "assign":
        if rep is None:
            raise UserError("Choose the rep to assign the cases to.")
        check_assignable(rep)
    if action == "close" and not reason.strip():
        raise UserError("Give a reason for closing the cases.")
    ids = [case_id for case_id, _ in items]
    cases = {
        c.id: c
        for c in db.session.scalars(
            select(Case).options(joinedload(Case.area)).where(Case.id.in_(ids))
        )
    }
    outcome = BulkOutcome()
    assigned: list[tuple[Case, int]] = []  # (case, its assigned event's id)
    for case_id, version in items:
        case = cases.get(case_id)
        if case is None:
            outcome.refused.append((case_id, "—", "The case no longer exists."))
            continue
        try:
            with db.session.begin_nested():
                message, event_id = _apply(case, action, version, actor, now, rep, reason)
        except UserError as exc:
            db.session.refresh(case)
            outcome.refused.append((case_id, case.area.code, str(exc)))
            continue
        outcome.changed.append((case_id, case.area.code, message))
        if event_id is not None and action == "assign":
            assigned.append((case, event_id))
    if assigned and rep is not None:
        ids = sorted(event_id for _, event_id in assigned)
        outcome.rep_name = rep.name
        outcome.notified = queue_new_cases_notice(
            rep, [c for c, _ in assigned], now, f"bulk:{ids[0]}-{ids[-1]}"
        )
    log.info(
        "bulk %s by user %s: %d changed, %d refused%s",
        action,
        actor.id,
        len(outcome.changed),
        len(outcome.refused),
        f"; rep {rep.id} told in one mail" if outcome.notified and rep is not None else "",
    )
    return outcome


def _apply(case, action, version, actor, now, rep, reason) -> tuple[str, int | None]:
    """What changed in words, and the id of the event that records it (None: no change)."""
    if action == "close":
        closed = close_case(case, reason, actor=actor, now=now, expected_version=version)
        return closed.message, closed.id
    target = rep if action == "assign" else None
    event = assign_case(
        case, target, actor=actor, now=now, expected_version=version, listed=target is not None
    )
    if event is None:
        return "Already assigned that way: nothing changed.", None
    return event.message, event.id
