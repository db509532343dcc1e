"""The programme team's case operations: assign or reassign a case or an area's rep, and close
a case with a reason. The caller owns the transaction (commit or roll back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Area, AuditEntry, Case, CaseEvent, User
from app.operations.audit import record_audit
from app.operations.casework import record_event
from app.operations.errors import UserError
from app.operations.mail_cancel import cancel_for_case, cancel_for_old_rep
from app.operations.sweep import queue_assignment_notice
from app.operations.versions import check_version, flush_or_conflict
from app.rules.calendar import london_date
from app.rules.cases import TransitionError, check_transition
from app.rules.vocabulary import (
    OPEN_STATUSES,
    STATUS_WORDS,
    USER_ROLES,
    CaseStatus,
    EventKind,
    ReminderKind,
    UserRole,
)


def check_assignable(user: User | None) -> None:
    """Only active reps or programme-team members may hold a case or an area."""
    if user is None:
        return
    if not user.active:
        raise UserError(f"{user.name} is no longer active and cannot be assigned.")
    if user.role not in USER_ROLES:
        raise UserError(f"{user.name} cannot be assigned cases.")


def _name(user: User | None) -> str:
    return user.name if user is not None else "nobody"


def _assignment_message(old: User | None, new: User | None, what: str, suffix: str = "") -> str:
    if old is None:
        return f"{what} assigned to {_name(new)}{suffix}."
    if new is None:
        return f"{what} unassigned (was {old.name}){suffix}."
    return f"{what} reassigned from {old.name} to {new.name}{suffix}."


def assign_case(
    case: Case,
    rep: User | None,
    *,
    actor: User | None,
    now: datetime,
    expected_version: int | None = None,
    via: str | None = None,
    listed: bool = False,
) -> CaseEvent | None:
    """Give an open case to `rep` (None: unassign). Returns the event, or None if unchanged;
    `via` names the channel in the timeline, e.g. 'areas import'. `listed`: the caller tells
    the rep in one list of new cases (bulk change, handover), so no notice of its own."""
    check_version(case.version, expected_version)
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
    if old is not None:
        cancel_for_old_rep(case.id, old.email, "the case has another rep now", now)
    data: dict[str, object] = {
        "rep_id": new_id,
        "previous_rep_id": old.id if old is not None else None,
    }
    if listed:
        data["notice"] = ReminderKind.NEW_CASES.value
    event = record_event(
        case,
        EventKind.ASSIGNED,
        _assignment_message(old, rep, "Case", f" ({via})" if via else ""),
        now=now,
        actor_id=actor.id if actor is not None else None,
        data=data,
    )
    flush_or_conflict()
    if rep is not None and not listed:
        # The new rep hears at once, in this transaction (the sweep would find the same key);
        # a listed case is told in the caller's one mail of new cases instead.
        queue_assignment_notice(case.id, now)
    return event


@dataclass(frozen=True)
class AreaRepChange:
    """What changing an area's rep did: the audit entry and the open case's event, if any."""

    audit: AuditEntry | None
    case_event: CaseEvent | None

    @property
    def changed(self) -> bool:
        return self.audit is not None or self.case_event is not None


_LOOK_UP = object()  # set_area_rep finds the area's open case itself


def set_area_rep(
    area: Area,
    rep: User | None,
    *,
    actor: User | None,
    now: datetime,
    also_open_case: bool = True,
    open_case: Case | None | object = _LOOK_UP,
    via: str | None = None,
    listed: bool = False,
) -> AreaRepChange:
    """Make `rep` the area's rep (None: no rep), with an audit entry; the area's open case
    follows when `also_open_case`. Callers that already hold the open case (or know there is
    none) pass it as `open_case`; `via` names the channel in the messages, e.g. 'areas import'.
    The one way an area changes rep: the areas import, the area page, handover, bulk actions.
    `listed` as for `assign_case`."""
    check_assignable(rep)
    new_id = rep.id if rep is not None else None
    entry = case_event = None
    suffix = f" ({via})" if via else ""
    if area.rep_id != new_id:
        old = db.session.get(User, area.rep_id) if area.rep_id is not None else None
        area.rep_id = new_id
        entry = record_audit(
            "area_rep_changed",
            _assignment_message(old, rep, f"Area {area.code}", suffix),
            target_type="area",
            target_id=area.id,
            now=now,
            actor_id=actor.id if actor is not None else None,
            data={"rep_id": new_id, "previous_rep_id": old.id if old is not None else None},
        )
    if also_open_case:
        if open_case is _LOOK_UP:
            open_case = db.session.scalar(
                select(Case).where(Case.area_id == area.id, Case.status.in_(OPEN_STATUSES))
            )
        if isinstance(open_case, Case) and open_case.rep_id != new_id:
            case_event = assign_case(open_case, rep, actor=actor, now=now, via=via, listed=listed)
            if entry is not None:
                entry.data = {**entry.data, "case_id": open_case.id}
    flush_or_conflict()
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
    check_version(case.version, expected_version)
    role = actor.role if actor is not None else UserRole.PROGRAMME
    try:
        check_transition(case.status, CaseStatus.CLOSED, role, reason)
    except TransitionError as exc:
        raise UserError(str(exc)) from None
    previous = case.status
    reason = reason.strip()
    case.status = CaseStatus.CLOSED
    case.closed_on = london_date(now)
    case.closed_reason = reason
    cancel_for_case(case.id, "the case is closed", now)
    event = record_event(
        case,
        EventKind.CLOSED,
        f"Case closed: {reason}",
        now=now,
        actor_id=actor.id if actor is not None else None,
        data={"from": previous, "to": CaseStatus.CLOSED, "reason": reason},
    )
    flush_or_conflict()
    return event
