"""Pausing a case's partnership reminders until a date, and ending a pause early (a pause
whose date has come is ended by the sweep: `app.operations.sweep.resume_ended_pauses`).
Each writes its timeline event; the caller commits.

While paused, the sweep queues no due-soon, overdue or check-in mail for the case, and what
was queued is cancelled when the pause starts. Mail to the rep and the programme team goes on."""

from __future__ import annotations

import logging
from datetime import date, datetime

from flask import current_app

from app.models import Case, User
from app.operations.case_actions import InvalidInput, _check_may_change, _check_open
from app.operations.casework import record_event
from app.operations.errors import UserError
from app.operations.mail_cancel import cancel_partnership_reminders, paused_reason
from app.operations.versions import check_version
from app.rules.calendar import day_words
from app.rules.pause import PauseLimits, is_paused, pause_errors
from app.rules.vocabulary import EventKind

log = logging.getLogger(__name__)

MAX_PAUSE_REASON = 500  # the column's length


def pause_limits() -> PauseLimits:
    return PauseLimits(
        max_days=int(current_app.config.get("REMINDER_PAUSE_MAX_DAYS", 366)),
        max_reason=MAX_PAUSE_REASON,
    )


def pause_reminders(
    case: Case,
    until: date | None,
    reason: str,
    *,
    actor: User,
    now: datetime,
    expected_version: int | None = None,
) -> int:
    """Hold back the case's partnership reminders until `until`; returns how many queued
    mails were cancelled. A case already paused gets the new date and reason."""
    _check_may_change(case, actor)
    check_version(case.version, expected_version)
    _check_open(case)
    reason = (reason or "").strip()
    errors = pause_errors(until, reason, now, pause_limits())
    if errors:
        raise InvalidInput(errors)
    assert until is not None
    case.reminders_paused_until = until
    case.reminders_paused_reason = reason
    cancelled = cancel_partnership_reminders(case.id, paused_reason(until), now)
    record_event(
        case,
        EventKind.REMINDERS_PAUSED,
        f"Partnership reminders paused until {day_words(until)}: {reason}",
        now=now,
        actor_id=actor.id,
        data={"until": until.isoformat(), "reason": reason, "cancelled": cancelled},
    )
    log.info(
        "case %s: partnership reminders paused until %s by user %s (%d queued cancelled)",
        case.id,
        until.isoformat(),
        actor.id,
        cancelled,
    )
    return cancelled


def resume_reminders(
    case: Case, *, actor: User, now: datetime, expected_version: int | None = None
) -> None:
    """End the case's pause before its date: reminders due are queued by the next sweep."""
    _check_may_change(case, actor)
    check_version(case.version, expected_version)
    if not is_paused(case.reminders_paused_until, now):
        raise UserError("The reminders of this case are not paused.")
    until = case.reminders_paused_until
    assert until is not None  # is_paused is false without a date
    case.reminders_paused_until = None
    case.reminders_paused_reason = None
    record_event(
        case,
        EventKind.REMINDERS_RESUMED,
        f"Partnership reminders resumed before {day_words(until)}: the pause was ended early.",
        now=now,
        actor_id=actor.id,
        data={"until": until.isoformat(), "early": True},
    )
    log.info("case %s: partnership reminders resumed early by user %s", case.id, actor.id)
