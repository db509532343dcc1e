"""How the programme and areas pages show things: dates in Europe/London, flags and reasons
in words, links to case pages. Registered per blueprint."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, url_for

from app.rules.vocabulary import FLAG_WORDS, REASON_WORDS, STATUS_WORDS


def flag_words(flag: str | None) -> str:
    return FLAG_WORDS.get(flag, flag) if flag else "Within criteria"


def reason_words(reasons: Iterable[str] | None) -> list[str]:
    return [REASON_WORDS.get(r, r) for r in (reasons or ())]


def status_words(status: str | None) -> str:
    return STATUS_WORDS.get(status, status) if status else ""


def case_url(case_id: int) -> str:
    """The case page."""
    return url_for("cases.show", case_id=case_id)


def register(bp: Blueprint) -> None:
    """Make the helpers available to the blueprint's templates."""

    @bp.context_processor
    def _display_helpers() -> dict:
        return {
            "flag_words": flag_words,
            "reason_words": reason_words,
            "status_words": status_words,
            "case_url": case_url,
        }
