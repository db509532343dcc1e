"""The one-page status sheet a rep takes to the partnership meeting.

Only what the partnership may see: where it stands, what would bring it back, the plan and the
open actions. No staff notes, no timeline, no other area's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app.models import Action, Case
from app.queries.case_page import load_case
from app.rules.calendar import london_date
from app.rules.distance import describe_distance, distance_to_criteria
from app.rules.vocabulary import FLAG_WORDS, REASON_WORDS, ActionStatus


@dataclass(frozen=True)
class StatusSheet:
    case: Case
    flag_words: str
    reasons: tuple[str, ...]
    distance: str | None  # "needs 2 more members, ..." (None when the roster is not known)
    open_actions: list[Action]
    today: date


def status_sheet(case_id: int, now: datetime) -> StatusSheet:
    """Load the sheet of a case the caller may see (the caller checks access)."""
    case = load_case(case_id)
    assert case is not None
    area = case.area
    distance = None
    if area.current_members is not None and area.current_residents is not None:
        distance = describe_distance(
            distance_to_criteria(area.current_members, area.current_residents)
        )
    actions = case.plan.actions if case.plan else []
    return StatusSheet(
        case=case,
        flag_words=FLAG_WORDS.get(area.current_flag, "Within criteria")
        if area.current_flag
        else "Within criteria",
        reasons=tuple(REASON_WORDS.get(r, r) for r in area.current_reasons or ()),
        distance=distance,
        open_actions=sorted(
            (a for a in actions if a.status == ActionStatus.OPEN),
            key=lambda a: (a.due_on is None, a.due_on or date.max, a.id),
        ),
        today=london_date(now),
    )
