"""Case rules (docs/rules.md#cases): what a new snapshot does to an area's case, and the status
machine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.rules.vocabulary import OPEN_STATUSES, STATUS_WORDS, CaseStatus, Flag, UserRole


class Outcome(StrEnum):
    NOTHING = "nothing"
    OPEN = "open"
    RESOLVE = "resolve"
    RETURN = "return"  # under criteria -> at threshold: returned, stays open
    ESCALATE = "escalate"  # at threshold -> under criteria
    UPDATE = "update"  # same flag again: only the evaluation changes


@dataclass(frozen=True)
class OpenCaseState:
    flag: str
    returned: bool  # returned_on already set


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    flag: str | None = None  # the case's flag afterwards (None when resolved / no case)
    set_returned: bool = False  # set returned_on now (first return only)


def decide(open_case: OpenCaseState | None, flag: str | None) -> Decision:
    """Given the area's open case (or None) and a new snapshot's flag, say what happens."""
    if flag not in (None, *Flag):
        raise ValueError(f"unknown flag {flag!r}")
    if open_case is None:
        if flag is None:
            return Decision(Outcome.NOTHING)
        return Decision(Outcome.OPEN, flag=flag)
    first_return = open_case.flag == Flag.UNDER_CRITERIA and not open_case.returned
    if flag is None:
        return Decision(Outcome.RESOLVE, set_returned=first_return)
    if open_case.flag == Flag.UNDER_CRITERIA and flag == Flag.AT_THRESHOLD:
        return Decision(Outcome.RETURN, flag=Flag.AT_THRESHOLD, set_returned=first_return)
    if open_case.flag == Flag.AT_THRESHOLD and flag == Flag.UNDER_CRITERIA:
        return Decision(Outcome.ESCALATE, flag=Flag.UNDER_CRITERIA)
    return Decision(Outcome.UPDATE, flag=flag)


# --- The status machine -------------------------------------------------------------------

# Transitions staff make by hand. `resolved` is the rules' alone; `closed` is the programme
# team's, from any open status, with a reason.
MANUAL_TRANSITIONS: dict[str, tuple[str, ...]] = {
    CaseStatus.NEW: (CaseStatus.CONTACTED,),
    CaseStatus.CONTACTED: (CaseStatus.PLAN_AGREED,),
    CaseStatus.PLAN_AGREED: (CaseStatus.MONITORING,),
    CaseStatus.MONITORING: (CaseStatus.PLAN_AGREED,),
}


class TransitionError(ValueError):
    """A status change that the rules do not allow; the message is meant for the user."""


def allowed_transitions(status: str, role: str) -> tuple[str, ...]:
    """Statuses a user of `role` ('rep' or 'programme') may move a case to from `status`."""
    if status not in OPEN_STATUSES:
        return ()
    targets = MANUAL_TRANSITIONS[status]
    if role == UserRole.PROGRAMME:
        targets = (*targets, CaseStatus.CLOSED)
    return targets


def check_transition(status: str, target: str, role: str, reason: str | None = None) -> None:
    """Raise TransitionError unless `role` may move a case from `status` to `target`."""
    if target == CaseStatus.RESOLVED:
        raise TransitionError("A case is resolved by the rules when the area is within criteria.")
    if status not in OPEN_STATUSES:
        raise TransitionError(f"This case is {STATUS_WORDS.get(status, status).lower()}.")
    if target == CaseStatus.CLOSED and role != UserRole.PROGRAMME:
        raise TransitionError("Only the programme team can close a case.")
    if target not in allowed_transitions(status, role):
        raise TransitionError(
            f"A case cannot go from {STATUS_WORDS[status].lower()}"
            f" to {STATUS_WORDS.get(target, target).lower()}."
        )
    if target == CaseStatus.CLOSED and not (reason and reason.strip()):
        raise TransitionError("Give a reason for closing the case.")


# --- what "plan agreed" needs ---------------------------------------------------------------


@dataclass(frozen=True)
class PlanFacts:
    """What the rules need to know of a case's plan to let it be agreed."""

    barriers: int
    target_members: int | None
    target_on: date | None
    open_actions: int


def plan_gaps(plan: PlanFacts | None, today: date, min_members: int) -> tuple[str, ...]:
    """What a plan still lacks before it can be agreed (empty: it can be).

    A plan means a plan: at least one barrier, a target of at least the criteria's minimum
    members, a target date after today and at least one open action."""
    if plan is None:
        plan = PlanFacts(0, None, None, 0)
    gaps = []
    if plan.barriers < 1:
        gaps.append("at least one barrier")
    if plan.target_members is None or plan.target_members < min_members:
        gaps.append(f"a target of at least {min_members} members")
    if plan.target_on is None or plan.target_on <= today:
        gaps.append("a target date in the future")
    if plan.open_actions < 1:
        gaps.append("at least one open action")
    return tuple(gaps)
