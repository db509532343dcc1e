"""Pausing a case's partnership reminders until a date (a partnership that asked for a break
over the summer): whether a pause holds at a moment, and what a valid pause is.

Pure: no Flask, no database, no clock. A pause "until 1 September" holds through 31 August
(London) and ends by itself when 1 September begins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.rules.calendar import day_words, london_date


@dataclass(frozen=True)
class PauseLimits:
    """How far ahead a pause may reach (REMINDER_PAUSE_MAX_DAYS) and how long its reason may
    be (the column's length)."""

    max_days: int
    max_reason: int


def is_paused(paused_until: date | None, now: datetime) -> bool:
    """Are the partnership's reminders held back at `now` (aware)?"""
    return paused_until is not None and london_date(now) < paused_until


def pause_has_ended(paused_until: date | None, now: datetime) -> bool:
    """A pause is recorded but its date has come: it ends now (the sweep records that once)."""
    return paused_until is not None and not is_paused(paused_until, now)


def pause_errors(
    until: date | None, reason: str, now: datetime, limits: PauseLimits
) -> dict[str, str]:
    """What is wrong with a pause until `until` for `reason` (field name -> message; the names
    are the pause form's)."""
    errors: dict[str, str] = {}
    today = london_date(now)
    latest = today + timedelta(days=limits.max_days)
    if until is None:
        errors["paused_until"] = "Enter the date the reminders start again."
    elif until <= today:
        errors["paused_until"] = "The date the reminders start again must be after today."
    elif until > latest:
        errors["paused_until"] = (
            f"A pause can last at most {limits.max_days} days: choose a date on or before "
            f"{day_words(latest)}."
        )
    reason = (reason or "").strip()
    if not reason:
        errors["pause_reason"] = "Say why the reminders are paused."
    elif len(reason) > limits.max_reason:
        errors["pause_reason"] = f"Use at most {limits.max_reason} characters for the reason."
    return errors
