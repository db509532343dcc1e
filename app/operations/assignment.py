"""The programme team's case operations: assign or reassign a case or an area's rep, and close
a case with a reason. The caller owns the transaction (commit or roll back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Area, AuditEntry, Case, CaseEvent, User
from app.operations.casework import record_event
from app.operations.errors import UserError
from app.queries.case_filters import london_today
from app.rules.cases import TransitionError, check_transition
from app.rules.vocabulary import OPEN_STATUSES, STATUS_WORDS

STALE_MESSAGE = (
    "Someone else changed this case while you were looking at it, so nothing was saved."
    " Check the case as it is now and try again."
)


class StaleCaseError(UserError):
    """The case changed since the form was shown (optimistic locking)."""

    def __init__(self, message: str = STALE_MESSAGE) -> None:
        super().__init__(message)


def _check_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and case.version != expected_version:
        raise StaleCaseError()


def _flush() -> None:
    """Flush now so a concurrent change (version_id_col) surfaces as a message, not a 500."""
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleCaseError() from None


def check_assignable(user: User | None) -> None:
    """Only active reps or programme-team members may hold a case or an area."""
    if user is None:
        return
    if not user.active:
        raise UserError(f"{user.name} is no longer active and cannot be assigned.")
    if user.role not in ("rep", "programme"):
        raise UserError(f"{user.name} cannot be assigned cases.")


def _name(user: User | None) -> str:
    return user.name if user is not None else "nobody"


def _assignment_message(old: User | None, new: User | None, what: str) -> str:
    if old is None:
        return f"{what} assigned to {_name(new)}."
    if new is None:
        return f"{what} unassigned (was {old.name})."
    return f"{what} reassigned from {old.name} to {new.name}."


def assign_case(
    case: Case,
    rep: User | None,
    *,
    actor: User | None,
    now: datetime,
    expected_version: int | None = None,
) -> CaseEvent | None:
    """Give an open case to `rep` (None: unassign). Returns the event, or None if unchanged."""
    _check_version(case, expected_version)
    if case.status not in OPEN_STATUSES:
        raise UserError(
            f"Case #{case.id} is {STATUS_WORDS.get(case.status, case.status).lower()}:"
            " only open cases can be assigned."
        )
    check_assignable(rep)
    new_id = rep.id if rep is not None else None
    if case.rep_id == new_id:
        return None
    old = db.session.get(User, case.rep_id) if case.rep_id is not None else None
    case.rep_id = new_id
    event = record_event(
        case,
        "assigned",
        _assignment_message(old, rep, "Case"),
        now=now,
        actor_id=actor.id if actor is not None else None,
        data={"rep_id": new_id, "previous_rep_id": old.id if old is not None else None},
    )
    _flush()
    return event


@dataclass(frozen=True)
class AreaRepChange:
    """What changing an area's rep did: the audit entry and the open case's event, if any."""

    audit: AuditEntry | None
    case_event: CaseEvent | None

    @property
    def changed(self) -> bool:
        return self.audit is not None or self.case_event is not None


def assign_area_rep(
    area: Area,
    rep: User | None,
    *,
    actor: User | None,
    now: datetime,
    also_open_case: bool = True,
) -> AreaRepChange:
    """Make `rep` the area's rep (None: no rep), with an audit entry; the area's open case
    follows when `also_open_case`."""
    check_assignable(rep)
    new_id = rep.id if rep is not None else None
    entry = case_event = None
    if area.rep_id != new_id:
        old = db.session.get(User, area.rep_id) if area.rep_id is not None else None
        area.rep_id = new_id
        entry = AuditEntry(
            actor_id=actor.id if actor is not None else None,
            action="area_rep_changed",
            target_type="area",
            target_id=area.id,
            message=_assignment_message(old, rep, f"Area {area.code}"),
            data={"rep_id": new_id, "previous_rep_id": old.id if old is not None else None},
            created_at=now,
        )
        db.session.add(entry)
    if also_open_case:
        open_case = db.session.scalar(
            select(Case).where(Case.area_id == area.id, Case.status.in_(OPEN_STATUSES))
        )
        if open_case is not None and open_case.rep_id != new_id:
            case_event = assign_case(open_case, rep, actor=actor, now=now)
            if entry is not None:
                entry.data = {**entry.data, "case_id": open_case.id}
    _flush()
    return AreaRepChange(entry, case_event)


def close_case(
    case: Case,
    reason: str,
    *,
    actor: User | None,
    now: datetime,
    expected_version: int | None = None,
) -> CaseEvent:
    """Close an open case with a reason (programme team only)."""
    _check_version(case, expected_version)
    role = actor.role if actor is not None else "programme"
    try:
        check_transition(case.status, "closed", role, reason)
    except TransitionError as exc:
        raise UserError(str(exc)) from None
    previous = case.status
    reason = reason.strip()
    case.status = "closed"
    case.closed_on = london_today(now)
    case.closed_reason = reason
    event = record_event(
        case,
        "closed",
        f"Case closed: {reason}",
        now=now,
        actor_id=actor.id if actor is not None else None,
        data={"from": previous, "to": "closed", "reason": reason},
    )
    _flush()
    return event
