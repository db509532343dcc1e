"""Queued mail whose cause is gone is cancelled, in the same transaction as the change that
removed the cause: a case resolved or closed, an action done or dropped, a contact who opted
out, a case given another rep. The sender checks the cause again just before sending
(`app.operations.outbox`), for anything changed between the two."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, update

from app.extensions import db
from app.models import OutboxMessage
from app.rules.vocabulary import ReminderKind

log = logging.getLogger(__name__)

# Mail to the rep about one case (the rest of a case's mail goes to the partnership).
REP_KINDS = ("new_case", "stale", "escalated", "returned")
# Mail that answers the partnership: it must reach them even when the answer ended the case
# (a membership update that resolves it is exactly what the contact wants to hear about).
KEPT_AFTER_CASE_ENDS = (ReminderKind.ANSWER_CONFIRMATION, ReminderKind.ANSWER_DECIDED)


def _cancel(where, reason: str, now: datetime) -> int:
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "queued", *where)
        .values(status="cancelled", cancelled_reason=reason[:300], cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        log.info("cancelled %d queued mail(s): %s", result.rowcount, reason)
    return result.rowcount


def cancel_for_case(case_id: int, reason: str, now: datetime) -> int:
    """Every queued mail about this case (digests are not about one case), but the answers to
    the partnership's own answers."""
    return _cancel(
        [OutboxMessage.case_id == case_id, OutboxMessage.kind.not_in(KEPT_AFTER_CASE_ENDS)],
        reason,
        now,
    )


def cancel_for_action(action_id: int, reason: str, now: datetime) -> int:
    """The action's due-soon and overdue reminders."""
    return _cancel([OutboxMessage.key.like(f"action:{action_id}:%")], reason, now)


def cancel_for_contact(contact_id: int, reason: str, now: datetime) -> int:
    return _cancel([OutboxMessage.contact_id == contact_id], reason, now)


def cancel_for_old_rep(case_id: int, old_rep_email: str | None, reason: str, now: datetime) -> int:
    """The previous rep's mail about a case that now has another rep."""
    if not old_rep_email:
        return 0
    return _cancel(
        [
            OutboxMessage.case_id == case_id,
            OutboxMessage.kind.in_(REP_KINDS),
            or_(OutboxMessage.recipient == old_rep_email),
        ],
        reason,
        now,
    )
