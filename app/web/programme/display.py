"""How the programme and areas pages show things: dates in Europe/London, flags and reasons
in words, links to case pages. Registered per blueprint."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, url_for

from app.queries.case_filters import CaseFilters
from app.rules.vocabulary import FLAG_WORDS, REASON_WORDS, STATUS_WORDS
from app.settings import stale_after_days
from app.web.filters import london_date
from app.web.listing import FilterTag, filter_tags


def flag_words(flag: str | None) -> str:
    return FLAG_WORDS.get(flag, flag) if flag else "Within criteria"


def reason_words(reasons: Iterable[str] | None) -> list[str]:
    return [REASON_WORDS.get(r, r) for r in (reasons or ())]


def status_words(status: str | None) -> str:
    return STATUS_WORDS.get(status, status) if status else ""


_CASE_CHECKS = (
    ("unassigned", "Has no rep"),
    ("overdue", "Has overdue actions"),
    ("escalated", "Was escalated"),
    ("returned", "Returned within criteria"),
)
_CASE_DATES = (
    ("opened_from", "Opened from"),
    ("opened_to", "Opened to"),
    ("returned_from", "Returned from"),
    ("returned_to", "Returned to"),
    ("resolved_from", "Resolved from"),
    ("resolved_to", "Resolved to"),
    ("escalated_from", "Last escalated from"),
    ("escalated_to", "Last escalated to"),
)


def case_filter_tags(f: CaseFilters, rep_names: dict[int, str]) -> list[FilterTag]:
    """The case list's chosen filters as removable tags, in the order of the form."""
    chosen: list[tuple[str, str]] = []
    if f.status != "open":
        chosen.append(("status", "All cases" if f.status == "all" else status_words(f.status)))
    if f.flag:
        chosen.append(("flag", f"Flag: {flag_words(f.flag)}"))
    if f.rep_id is not None:
        chosen.append(("rep_id", f"Rep: {rep_names.get(f.rep_id, f'user {f.rep_id}')}"))
    if f.region:
        chosen.append(("region", f"Region: {f.region}"))
    if f.area:
        chosen.append(("area", f"Area: {f.area}"))
    chosen += [(name, label) for name, label in _CASE_CHECKS if getattr(f, name)]
    if f.stale:
        chosen.append(("stale", f"No activity for {stale_after_days()} days"))
    if f.reached:
        chosen.append(("reached", f"Reached: {status_words(f.reached)}"))
    if f.cohort is not None:
        chosen.append(("cohort", f"Opened by the {f.cohort} review"))
    chosen += [
        (name, f"{label} {london_date(getattr(f, name))}")
        for name, label in _CASE_DATES
        if getattr(f, name) is not None
    ]
    return filter_tags("programme.cases", f, chosen)


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
