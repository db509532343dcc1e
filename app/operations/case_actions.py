"""A rep's casework on one case: status, notes, the action plan and its actions, and membership
updates. Each operation makes the change and writes its timeline event; the caller commits.

Forms carry the version of what they edit (the case, or the plan): a version that differs from
the stored one means someone else changed it meanwhile, and the change is refused."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Action, ActionPlan, Area, Case, Snapshot, User
from app.operations.assignment import close_case
from app.operations.audit import record_audit
from app.operations.casework import open_case_for, record_event
from app.operations.errors import UserError
from app.operations.mail_cancel import cancel_for_action
from app.operations.rows import rowcount, table_of
from app.operations.snapshots import EntryInput, SnapshotInput, store_snapshots
from app.operations.versions import check_version
from app.rules.calendar import day_words, london_date
from app.rules.cases import PlanFacts, TransitionError, check_transition, plan_gaps
from app.rules.criteria import Evaluation, evaluate
from app.rules.vocabulary import (
    BARRIER_WORDS,
    CONTACT_METHODS,
    FLAG_WORDS,
    MEMBER_ROLES,
    OPEN_STATUSES,
    OWNER_WORDS,
    REASON_WORDS,
    STATUS_WORDS,
    SUPPORT_WORDS,
    UNCOUNTED_ROLES,
    ActionStatus,
    CaseStatus,
    EventKind,
    Owner,
    SnapshotKind,
    UserRole,
)
from app.settings import criteria_thresholds

MAX_NOTE = 5000
MAX_DESCRIPTION = 1000
MAX_NAME = 200
MAX_TARGET_MEMBERS = 500


class InvalidInput(UserError):
    """Bad input; `errors` maps each field name to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


# --- guards ---------------------------------------------------------------------------------


def _check_may_change(case: Case, actor: User) -> None:
    if actor.role != UserRole.PROGRAMME and case.rep_id != actor.id:
        raise UserError("This case is not assigned to you.")


def _check_open(case: Case) -> None:
    if case.status not in OPEN_STATUSES:
        raise UserError(f"This case is {STATUS_WORDS[case.status].lower()}; it can't be changed.")


# --- status and notes -----------------------------------------------------------------------


def change_status(
    case: Case,
    target: str,
    actor: User,
    now: datetime,
    reason: str | None = None,
    expected_version: int | None = None,
) -> str:
    """Move the case to `target` if the actor's role may; returns what happened, in words."""
    _check_may_change(case, actor)
    check_version(case.version, expected_version)
    try:
        check_transition(case.status, target, actor.role, reason)
    except TransitionError as exc:
        raise InvalidInput({"target": str(exc)}) from None
    words = f"Status changed to {STATUS_WORDS[target]}"
    if target == CaseStatus.CLOSED:
        # One way to close a case, whichever page it comes from: one event kind, "closed".
        close_case(case, reason or "", actor=actor, now=now)
        return f"{words}: {case.closed_reason}"
    if target == CaseStatus.PLAN_AGREED:
        _check_plan_can_be_agreed(case, now)
    before = case.status
    case.status = target
    if target == CaseStatus.CONTACTED and case.contacted_at is None:
        case.contacted_at = now
    if target == CaseStatus.PLAN_AGREED and case.plan_agreed_at is None:
        case.plan_agreed_at = now
    data = {"from": before, "to": target}
    record_event(case, EventKind.STATUS_CHANGED, f"{words}.", now=now, actor_id=actor.id, data=data)
    return words


def _min_members() -> int:
    return criteria_thresholds().min_members


def _check_plan_can_be_agreed(case: Case, now: datetime) -> None:
    plan = case.plan
    facts = None
    if plan is not None:
        facts = PlanFacts(
            barriers=len(plan.barriers or []),
            target_members=plan.target_members,
            target_on=plan.target_on,
            open_actions=sum(1 for a in plan.actions if a.status == "open"),
        )
    gaps = plan_gaps(facts, london_date(now), _min_members())
    if gaps:
        raise InvalidInput(
            {"target": "The plan can't be agreed yet: it needs " + "; ".join(gaps) + "."}
        )


# --- contact with the partnership -------------------------------------------------------------


def record_contact(
    case: Case,
    *,
    on: date | None,
    method: str,
    with_whom: str,
    outcome: str,
    actor: User,
    now: datetime,
) -> None:
    """Record a contact with the partnership; the first one moves a new case to contacted."""
    _check_may_change(case, actor)
    _check_open(case)
    with_whom, outcome = (with_whom or "").strip(), (outcome or "").strip()
    errors = _contact_errors(case, on, method, with_whom, outcome, london_date(now))
    if errors:
        raise InvalidInput(errors)
    assert on is not None
    how = CONTACT_METHODS[method].lower()
    record_event(
        case,
        EventKind.CONTACT,
        f"Contact ({how}) with {with_whom} on {day_words(on)}: {outcome}",
        now=now,
        actor_id=actor.id,
        data={"on": on.isoformat(), "method": method, "with": with_whom, "outcome": outcome},
        addition=True,
    )
    if case.status == CaseStatus.NEW:
        _first_contact(case, actor, now)


def _contact_errors(
    case: Case, on: date | None, method: str, with_whom: str, outcome: str, today: date
) -> dict[str, str]:
    """What is wrong with a contact record, by field."""
    errors: dict[str, str] = {}
    if on is None:
        errors["on"] = "Enter the date of the contact."
    elif on > today:
        errors["on"] = "The date of the contact can't be in the future."
    elif on < case.opened_on:
        errors["on"] = "The date of the contact is before the case was opened."
    if method not in CONTACT_METHODS:
        errors["method"] = "Choose how you were in contact."
    if not with_whom:
        errors["with_whom"] = "Say who you were in contact with."
    elif len(with_whom) > MAX_NAME:
        errors["with_whom"] = f"Use at most {MAX_NAME} characters for who it was with."
    if not outcome:
        errors["outcome"] = "Write what came of it."
    elif len(outcome) > MAX_NOTE:
        errors["outcome"] = f"Use at most {MAX_NOTE} characters for the outcome."
    return errors


def _first_contact(case: Case, actor: User, now: datetime) -> None:
    """Move a new case to contacted, unless someone else moved it on meanwhile: a
    compare-and-set on the status, so a simultaneous status change is kept, not a conflict."""
    target = CaseStatus.CONTACTED.value
    try:
        check_transition(case.status, target, actor.role, None)
    except TransitionError:
        return
    table = table_of(Case)
    moved = rowcount(
        db.session.execute(
            update(table)
            .where(table.c.id == case.id, table.c.status == CaseStatus.NEW.value)
            .values(
                status=target,
                contacted_at=func.coalesce(table.c.contacted_at, now),
                version=table.c.version + 1,
            )
        )
    )
    db.session.refresh(case, ["status", "contacted_at", "version"])
    if moved:
        words = f"Status changed to {STATUS_WORDS[target]}"
        data = {"from": CaseStatus.NEW.value, "to": target}
        record_event(
            case, EventKind.STATUS_CHANGED, f"{words}.", now=now, actor_id=actor.id, data=data
        )


def add_note(case: Case, text: str, actor: User, now: datetime) -> None:
    """Add a note to the case's timeline (allowed on closed cases too: context after the fact)."""
    _check_may_change(case, actor)
    text = (text or "").strip()
    if not text:
        raise InvalidInput({"note": "Write the note."})
    if len(text) > MAX_NOTE:
        raise InvalidInput({"note": f"A note can have at most {MAX_NOTE} characters."})
    record_event(case, EventKind.NOTE, text, now=now, actor_id=actor.id, addition=True)


# --- the action plan ------------------------------------------------------------------------


def _labels(keys: Iterable[str], words: dict[str, str]) -> str:
    return ", ".join(words[k] for k in keys) or "none"


def save_plan(
    case: Case,
    *,
    barriers: Sequence[str],
    barriers_text: str,
    target_members: int | None,
    target_on: date | None,
    support: Sequence[str],
    actor: User,
    now: datetime,
    expected_version: int | None = None,
) -> list[str]:
    """Create or change the case's plan; returns the names of what changed (empty: nothing;
    'created' first for a new plan).

    `expected_version` is the plan's version the form showed (0: there was no plan)."""
    _check_may_change(case, actor)
    _check_open(case)
    plan = case.plan
    check_version(plan.version if plan is not None else 0, expected_version)
    barriers = [b for b in BARRIER_WORDS if b in set(barriers)]
    support = [s for s in SUPPORT_WORDS if s in set(support)]
    barriers_text = (barriers_text or "").strip()
    errors = _plan_errors(barriers, barriers_text, target_members, target_on, support, case, now)
    if errors:
        raise InvalidInput(errors)

    new_values = {
        "barriers": barriers,
        "barriers_text": barriers_text,
        "target_members": target_members,
        "target_on": target_on,
        "support": support,
    }
    created = plan is None
    if created and not (barriers or barriers_text or target_members or target_on or support):
        raise InvalidInput(
            {"barriers": "The plan is empty: choose a barrier, or set a target or the support."}
        )
    if plan is None:
        plan = ActionPlan(case=case, barriers=[], barriers_text="", support=[], updated_at=now)
        db.session.add(plan)
    changed = [name for name, value in new_values.items() if getattr(plan, name) != value]
    if not changed and not created:
        return []
    for name, value in new_values.items():
        setattr(plan, name, value)
    plan.updated_at = now
    record_event(
        case,
        EventKind.PLAN_UPDATED,
        ("Plan created: " if created else "Plan updated: ") + _plan_summary(plan, changed) + ".",
        now=now,
        actor_id=actor.id,
        data={"changed": changed, "created": created},
    )
    return ["created", *changed] if created else changed


def _plan_errors(barriers, barriers_text, target_members, target_on, support, case, now):
    errors: dict[str, str] = {}
    if "other" in barriers and not barriers_text:
        errors["barriers_text"] = "Describe the other barrier."
    if len(barriers_text) > MAX_NOTE:
        errors["barriers_text"] = f"Use at most {MAX_NOTE} characters."
    if target_members is not None and not 1 <= target_members <= MAX_TARGET_MEMBERS:
        errors["target_members"] = f"Target members must be between 1 and {MAX_TARGET_MEMBERS}."
    if target_on is not None and target_on < case.opened_on:
        errors["target_on"] = "The target date is before the case was opened."
    return errors


def _plan_summary(plan: ActionPlan, changed: list[str]) -> str:
    parts = {
        "barriers": f"barriers {_labels(plan.barriers, BARRIER_WORDS)}",
        "barriers_text": f"barrier notes “{plan.barriers_text}”" if plan.barriers_text else "",
        "target_members": f"target {plan.target_members} members" if plan.target_members else "",
        "target_on": f"target date {day_words(plan.target_on)}" if plan.target_on else "",
        "support": f"support {_labels(plan.support, SUPPORT_WORDS)}",
    }
    shown = [parts[name] or f"{name.replace('_', ' ')} removed" for name in changed]
    if not changed:  # a new, empty plan
        shown = [parts["barriers"], parts["support"]]
    return "; ".join(shown)


# --- actions --------------------------------------------------------------------------------


def _action_errors(description: str, owner: str, due_on: date | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not description:
        errors["description"] = "Describe the action."
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = f"Use at most {MAX_DESCRIPTION} characters."
    if owner not in OWNER_WORDS:
        errors["owner"] = "Choose who owns the action."
    if due_on is None:
        errors["due_on"] = "Give a due date."
    return errors


def _action_words(action: Action) -> str:
    due = f", due {day_words(action.due_on)}" if action.due_on else ""
    return f"“{action.description}” ({OWNER_WORDS[action.owner]}{due})"


def _plan_for(case: Case, now: datetime) -> ActionPlan:
    if case.plan is None:
        case.plan = ActionPlan(case=case, barriers=[], barriers_text="", support=[], updated_at=now)
        db.session.add(case.plan)
    return case.plan


def add_action(
    case: Case,
    *,
    description: str,
    owner: str,
    due_on: date | None,
    actor: User,
    now: datetime,
) -> Action:
    """Add an open action to the case's plan (creating an empty plan if there is none)."""
    _check_may_change(case, actor)
    _check_open(case)
    description = (description or "").strip()
    errors = _action_errors(description, owner, due_on)
    if due_on is not None and due_on < london_date(now):
        errors.setdefault("due_on", "The due date is in the past.")
    if errors:
        raise InvalidInput(errors)
    plan = _plan_for(case, now)
    action = Action(plan=plan, description=description, owner=owner, due_on=due_on)
    action.created_at = now
    db.session.add(action)
    db.session.flush()
    record_event(
        case,
        EventKind.ACTION_ADDED,
        f"Action added: {_action_words(action)}.",
        now=now,
        actor_id=actor.id,
        data={"action_id": action.id},
        addition=True,
    )
    return action


def _check_action(case: Case, action: Action, actor: User, expected_version: int | None) -> None:
    _check_may_change(case, actor)
    check_version(case.version, expected_version)
    _check_open(case)
    if action.plan.case_id != case.id:
        raise UserError("That action belongs to another case.")
    if action.status != ActionStatus.OPEN:
        raise UserError(
            f"That action is already {'done' if action.status == 'done' else 'dropped'}."
        )


def edit_action(
    case: Case,
    action: Action,
    *,
    description: str,
    owner: str,
    due_on: date | None,
    actor: User,
    now: datetime,
    expected_version: int | None = None,
) -> list[str]:
    """Change an open action; returns the names of what changed."""
    _check_action(case, action, actor, expected_version)
    description = (description or "").strip()
    errors = _action_errors(description, owner, due_on)
    if due_on is not None and due_on != action.due_on and due_on < london_date(now):
        errors.setdefault("due_on", "The new due date is in the past.")
    if errors:
        raise InvalidInput(errors)
    new_values = {"description": description, "owner": owner, "due_on": due_on}
    changed = [name for name, value in new_values.items() if getattr(action, name) != value]
    if not changed:
        return []
    before = _action_words(action)
    _cancel_when_moved(action, due_on, owner, now)
    for name, value in new_values.items():
        setattr(action, name, value)
    record_event(
        case,
        EventKind.ACTION_UPDATED,
        f"Action changed from {before} to {_action_words(action)}.",
        now=now,
        actor_id=actor.id,
        data={"action_id": action.id, "changed": changed},
    )
    return changed


def _cancel_when_moved(action: Action, due_on: date | None, owner: str, now: datetime) -> None:
    """A new due date restarts the action's reminders (their keys carry the date): what was
    queued for the old date goes. So does mail to the partnership once it no longer owns it."""
    if due_on != action.due_on:
        was = day_words(action.due_on) if action.due_on else "no date"
        cancel_for_action(action.id, f"the action was moved from {was} to {day_words(due_on)}", now)
    elif owner != action.owner and action.owner == Owner.PARTNERSHIP:
        cancel_for_action(action.id, "the action is no longer the partnership's", now)


def complete_action(
    case: Case, action: Action, *, actor: User, now: datetime, expected_version: int | None = None
) -> None:
    """Mark an open action done."""
    _check_action(case, action, actor, expected_version)
    mark_action_done(case, action, now=now, actor_id=actor.id)


def mark_action_done(
    case: Case,
    action: Action,
    *,
    now: datetime,
    actor_id: int | None,
    words: str = "",
    data: dict | None = None,
) -> None:
    """Mark an open action done and stop its reminders; `words` are added to the event (who
    reported it, when not a staff user). The caller has checked who may."""
    _check_open(case)
    if action.status != ActionStatus.OPEN:
        raise UserError("That action is not open any more.")
    action.status = ActionStatus.DONE
    action.completed_at = now
    cancel_for_action(action.id, "the action is done", now)
    record_event(
        case,
        EventKind.ACTION_DONE,
        f"Action done: {_action_words(action)}.{words}",
        now=now,
        actor_id=actor_id,
        data={"action_id": action.id, **(data or {})},
    )


def reopen_action(
    case: Case, action: Action, *, actor: User, now: datetime, reason: str = ""
) -> None:
    """Open a done action again (it was reported done but is not): its reminders may follow."""
    _check_may_change(case, actor)
    _check_open(case)
    if action.plan.case_id != case.id:
        raise UserError("That action belongs to another case.")
    if action.status != ActionStatus.DONE:
        raise UserError("Only an action that is done can be reopened.")
    action.status = ActionStatus.OPEN
    action.completed_at = None
    because = f" {reason.strip()}" if reason.strip() else ""
    record_event(
        case,
        EventKind.ACTION_REOPENED,
        f"Action reopened: {_action_words(action)}.{because}",
        now=now,
        actor_id=actor.id,
        data={"action_id": action.id},
    )


def drop_action(
    case: Case,
    action: Action,
    *,
    actor: User,
    now: datetime,
    reason: str | None = None,
    expected_version: int | None = None,
) -> None:
    """Drop an open action (it no longer applies); no more reminders are sent for it."""
    _check_action(case, action, actor, expected_version)
    action.status = ActionStatus.DROPPED
    cancel_for_action(action.id, "the action was dropped", now)
    reason = (reason or "").strip()
    because = f" Reason: {reason}" if reason else ""
    record_event(
        case,
        EventKind.ACTION_DROPPED,
        f"Action dropped: {_action_words(action)}.{because}",
        now=now,
        actor_id=actor.id,
        data={"action_id": action.id, "reason": reason},
    )


# --- membership updates ---------------------------------------------------------------------

OUTCOME_WORDS = {
    "resolved": "the case is resolved",
    "returned": "the area has returned within criteria; the case stays open for close work",
    "escalated": "the case is escalated: the area is under criteria again",
    "opened": "a case has been opened",
    "unchanged": "the case stays open",
    "no_case": "there is no open case",
    "nothing_changed": "nothing changed, so nothing was stored",
}


@dataclass(frozen=True)
class MembershipResult:
    evaluation: Evaluation
    outcome: str  # resolved | returned | escalated | opened | unchanged | no_case
    case: Case | None  # the case the update was recorded on (None: the area had none)
    message: str


def evaluation_words(evaluation: Evaluation) -> str:
    """'within criteria', 'at threshold (exactly eight)' or 'under criteria (reasons)'."""
    if evaluation.flag is None:
        return "within criteria"
    words = FLAG_WORDS[evaluation.flag].lower()
    if evaluation.reasons:
        words += ": " + "; ".join(REASON_WORDS[r] for r in evaluation.reasons)
    return words


def _entry_errors(entries: Sequence[EntryInput]) -> dict[str, str]:
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for entry in entries:
        if not entry.name.strip():
            errors["entries"] = "Every person needs a name."
        elif len(entry.name) > MAX_NAME:
            errors["entries"] = f"A name can have at most {MAX_NAME} characters."
        elif entry.role not in MEMBER_ROLES:
            errors["entries"] = f"Unknown role for {entry.name}."
        elif not entry.person_id or entry.person_id in seen:
            errors["entries"] = f"{entry.name} appears twice."
        seen.add(entry.person_id)
    if not any(e.role not in UNCOUNTED_ROLES for e in entries):
        errors.setdefault(
            "entries", "Add at least one counted member (workers and LTO reps don't count)."
        )
    return errors


def same_roster(area_id: int, entries: Sequence[EntryInput]) -> bool:
    """Is this roster exactly the area's latest recorded one (same people, names, residency
    and roles)?"""
    from app.queries.case_page import current_roster

    _on, current = current_roster(area_id)
    recorded = {(r.person_id, r.name, bool(r.resident), r.role) for r in current}
    posted = {(e.person_id, e.name, bool(e.resident), e.role) for e in entries}
    return bool(current) and recorded == posted and len(current) == len(entries)


def update_membership(
    target: Case | Area,
    entries: Sequence[EntryInput],
    actor: User,
    now: datetime,
    expected_version: int | None = None,
    *,
    on: date | None = None,
    origin: str = "",
) -> MembershipResult:
    """Store today's (London) roster of the area as an in-year update and run the case rules.

    `target` is the case being worked on (it must be open) or an area. `expected_version` is
    the case's version the form showed. `on` dates the update another day (a partnership's
    proposal is dated when they sent it); `origin` says where it came from, in the event."""
    if isinstance(target, Case):
        case: Case | None = target
        _check_may_change(target, actor)
        check_version(target.version, expected_version)
        _check_open(target)
        area = target.area
    else:
        area = target
        if actor.role != UserRole.PROGRAMME and area.rep_id != actor.id:
            raise UserError("This area is not assigned to you.")
        case = open_case_for(area.id)
    entries = [
        EntryInput(e.person_id.strip(), e.name.strip(), bool(e.resident), e.role) for e in entries
    ]
    errors = _entry_errors(entries)
    if errors:
        raise InvalidInput(errors)
    evaluation = evaluate(((e.resident, e.role) for e in entries), criteria_thresholds())
    if same_roster(area.id, entries):
        message = "Nothing changed: the roster is the one already recorded, so nothing was stored"
        return MembershipResult(evaluation, "nothing_changed", case, message)
    on = on or london_date(now)
    snapshot_in = SnapshotInput(area.code, "update", None, on, tuple(entries))
    summary = store_snapshots([snapshot_in], now=now, actor_id=actor.id, source="web")
    tally = summary.cases
    if case is None:
        case = open_case_for(area.id)
        outcome = "opened" if case is not None else "no_case"
    elif tally.resolved:
        outcome = "resolved"
    elif tally.escalated:
        outcome = "escalated"
    elif tally.returned:
        outcome = "returned"
    else:
        outcome = "unchanged"
    counts = f"{evaluation.members} members, {evaluation.residents} residents"
    message = (
        f"Membership updated{f' ({origin})' if origin else ''}: the area is now"
        f" {evaluation_words(evaluation)} ({counts}); {OUTCOME_WORDS[outcome]}"
    )
    data = {
        "members": evaluation.members,
        "residents": evaluation.residents,
        "flag": evaluation.flag,
        "reasons": list(evaluation.reasons),
        "outcome": outcome,
        "on": on.isoformat(),
        # The rules' events for the same snapshot carry its id too: the timeline shows them
        # as this one update.
        "snapshot_id": db.session.scalar(
            select(Snapshot.id).where(
                Snapshot.area_id == area.id,
                Snapshot.kind == SnapshotKind.UPDATE,
                Snapshot.effective_on == on,
            )
        ),
    }
    if case is not None:
        record_event(
            case, EventKind.MEMBERSHIP_UPDATED, f"{message}.", now=now, actor_id=actor.id, data=data
        )
    else:
        record_audit(
            "membership_updated",
            f"{area.code}: {message}",
            target_type="area",
            target_id=area.id,
            now=now,
            actor_id=actor.id,
            data=data,
        )
    return MembershipResult(evaluation, outcome, case, message)
