"""Queued mail whose cause is gone is cancelled, in the same transaction as the change that
removed the cause: a case resolved or closed, an action done, dropped or moved to another
date, a contact who opted out, a case given another rep, a case's reminders paused. The
sender checks the cause again just before sending (`app.operations.outbox`), for anything
changed between the two."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import String, cast, or_, update

from app.extensions import db
from app.models import OutboxMessage
from app.operations.rows import rowcount
from app.rules.calendar import day_words
from app.rules.vocabulary import PARTNERSHIP_REMINDER_KINDS, OutboxStatus, ReminderKind

log = logging.getLogger(__name__)

# Mail to the rep about one case (the rest of a case's mail goes to the partnership).
REP_KINDS = (
    ReminderKind.NEW_CASE,
    ReminderKind.STALE,
    ReminderKind.ESCALATED,
    ReminderKind.RETURNED,
)
# Mail that answers the partnership: it must reach them even when the answer ended the case
# (a membership update that resolves it is exactly what the contact wants to hear about).
KEPT_AFTER_CASE_ENDS = (ReminderKind.ANSWER_CONFIRMATION, ReminderKind.ANSWER_DECIDED)


def _cancel(where, reason: str, now: datetime, **values) -> int:
    cancelled = rowcount(
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.QUEUED, *where)
            .values(
                status=OutboxStatus.CANCELLED,
                cancelled_reason=reason[:300],
                cancelled_at=now,
                **values,
            )
            .execution_options(synchronize_session=False)
        )
    )
    if cancelled:
        log.info("cancelled %d queued mail(s): %s", cancelled, reason)
    return cancelled


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


def paused_reason(until: date) -> str:
    """The reason on mail held back by a pause (the Outbox shows 'Not sent: …')."""
    return f"partnership reminders are paused until {day_words(until)}"


def cancel_partnership_reminders(case_id: int, reason: str, now: datetime) -> int:
    """The case's due-soon, overdue and check-in mail to the partnership (a pause).

    Their keys are set aside (":held:<id>" appended), so a reminder still due when the pause
    ends is queued again then; other cancellations keep the key, so it never comes back."""
    return _cancel(
        [OutboxMessage.case_id == case_id, OutboxMessage.kind.in_(PARTNERSHIP_REMINDER_KINDS)],
        reason,
        now,
        key=OutboxMessage.key.concat(":held:").concat(cast(OutboxMessage.id, String)),
    )


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
