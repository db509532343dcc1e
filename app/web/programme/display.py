"""How the programme and areas pages show things: dates in Europe/London, flags and reasons
in words, links to pages that may not exist yet. Registered per blueprint."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, url_for

from app.rules.calendar import london_day_words, london_moment_words
from app.rules.vocabulary import FLAG_WORDS, REASON_WORDS, STATUS_WORDS

LONDON = ZoneInfo("Europe/London")


def london_date(value: date | datetime | None, empty: str = "—") -> str:
    """'25 Nov 2026' (a datetime is shown as its London date)."""
    return london_day_words(value) if value is not None else empty


def london_datetime(value: datetime | None, empty: str = "—") -> str:
    """'25 Nov 2026, 10:00' in London time."""
    return london_moment_words(value) if value is not None else empty


def flag_words(flag: str | None) -> str:
    return FLAG_WORDS.get(flag, flag) if flag else "Within criteria"


def reason_words(reasons: Iterable[str] | None) -> list[str]:
    return [REASON_WORDS.get(r, r) for r in (reasons or ())]


def status_words(status: str | None) -> str:
    return STATUS_WORDS.get(status, status or "")


def case_url(case_id: int) -> str:
    """The rep's case page (blueprint `cases`), or '#' while it does not exist."""
    if "cases.show" not in current_app.view_functions:
        return "#"
    return url_for("cases.show", case_id=case_id)


def safe_next(target: str | None) -> str | None:
    """A local path to go back to after a form, or None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


def register(bp: Blueprint) -> None:
    """Make the helpers available to the blueprint's templates."""

    @bp.context_processor
    def _display_helpers() -> dict:
        return {
            "london_date": london_date,
            "london_datetime": london_datetime,
            "flag_words": flag_words,
            "reason_words": reason_words,
            "status_words": status_words,
            "case_url": case_url,
        }
