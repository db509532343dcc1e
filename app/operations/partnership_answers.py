"""The partnership's answers through their personal link, and the rep's decisions on them
(issue 14). Each operation writes the answer, its timeline event and its mail in the caller's
transaction; the caller commits.

A membership update waits for the rep, who accepts it (it becomes an in-year update through
the same operation as the rep's own, so the case rules run exactly as then) or declines it
with a message. An action reported done is done at once; the rep can reopen it. More time
waits for the rep's yes (the due date moves, through the action-update operation) or no."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Action, ActionPlan, Case, PartnershipAnswer, User
from app.operations import answer_mail
from app.operations.case_actions import (
    InvalidInput,
    edit_action,
    evaluation_words,
    mark_action_done,
    reopen_action,
    update_membership,
)
from app.operations.casework import record_event
from app.operations.errors import UserError
from app.operations.partnership_links import LinkAccess
from app.operations.snapshots import EntryInput
from app.operations.text import text_problem
from app.rules.calendar import day_words, london_date
from app.rules.criteria import Evaluation, evaluate
from app.rules.vocabulary import (
    MEMBER_ROLES,
    UNCOUNTED_ROLES,
    ActionStatus,
    AnswerKind,
    AnswerStatus,
    EventKind,
    Owner,
    UserRole,
)
from app.settings import criteria_thresholds

log = logging.getLogger(__name__)

MAX_NAME = 200
MAX_COMMENT = 2000
MAX_MESSAGE = 2000
MAX_ROWS = 200
# How far ahead a contact may ask an action to be moved.
MAX_MORE_TIME_DAYS = 366
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
NO_OPEN_CASE = (
    "There is nothing to answer at the moment: your partnership has no open case with us. "
    "If something has changed, write to your rep."
)


@dataclass(frozen=True)
class ProposedRow:
    """One person on a proposed roster; person_id is '' for someone new to the roster."""

    person_id: str
    name: str
    resident: bool
    role: str


@dataclass(frozen=True)
class Submitted:
    answer: PartnershipAnswer
    duplicate: bool  # the same form was sent before: nothing new was stored


def new_form_key() -> str:
    """The random key a form carries so that sending it twice makes one answer."""
    return secrets.token_urlsafe(24)


def proposed_evaluation(rows: Sequence[ProposedRow | dict]) -> Evaluation:
    return evaluate(((_get(r, "resident"), _get(r, "role")) for r in rows), criteria_thresholds())


def _get(row, name: str):
    return row[name] if isinstance(row, dict) else getattr(row, name)


# --- checks -----------------------------------------------------------------------------------


def _open_case(access: LinkAccess) -> Case:
    if access.case is None:
        raise UserError(NO_OPEN_CASE)
    return access.case


def _check_form_key(form_key: str) -> None:
    if not isinstance(form_key, str) or not FORM_KEY.match(form_key):
        raise InvalidInput({"form_key": "The form is incomplete: open the page again."})


def _already_sent(form_key: str, access: LinkAccess) -> Submitted | None:
    answer = db.session.scalar(
        select(PartnershipAnswer).where(PartnershipAnswer.form_key == form_key)
    )
    if answer is None:
        return None
    if answer.contact_id != access.contact.id:
        raise InvalidInput({"form_key": "The form is incomplete: open the page again."})
    return Submitted(answer, duplicate=True)


def _text_error(value: str, what: str, limit: int, *, required: bool, multiline: bool):
    if not value:
        return f"Enter {what}." if required else None
    problem = text_problem(value, limit, multiline=multiline)
    return f"{what[0].upper()}{what[1:]} {problem}." if problem else None


def row_errors(rows: Sequence[ProposedRow]) -> dict[str, str]:
    """What is wrong with a proposed roster, by field ('rows-<i>-name' or 'rows')."""
    errors: dict[str, str] = {}
    if len(rows) > MAX_ROWS:
        return {"rows": f"A roster can have at most {MAX_ROWS} people."}
    seen: set[str] = set()
    for i, row in enumerate(rows):
        problem = _text_error(
            row.name, "the person's name", MAX_NAME, required=True, multiline=False
        )
        if problem:
            errors[f"rows-{i}-name"] = problem
        if row.role not in MEMBER_ROLES:
            errors[f"rows-{i}-role"] = "Choose a role from the list."
        if row.person_id and row.person_id in seen:
            errors[f"rows-{i}-name"] = f"{row.name} is on the roster twice."
        seen.add(row.person_id)
    if not any(r.role not in UNCOUNTED_ROLES for r in rows):
        errors.setdefault(
            "rows", "Add at least one counted member (workers and LTO reps don't count)."
        )
    return errors


def clean_rows(rows: Sequence[ProposedRow], recorded_ids: set[str]) -> list[ProposedRow]:
    """Names trimmed; a person id the recorded roster does not hold is the client's word, so
    that person counts as new."""
    return [
        ProposedRow(
            r.person_id if r.person_id in recorded_ids else "",
            (r.name or "").strip(),
            bool(r.resident),
            r.role,
        )
        for r in rows
    ]


# --- the contact's answers --------------------------------------------------------------------


def _store(answer: PartnershipAnswer, access: LinkAccess) -> Submitted:
    """Insert the answer, or find the one a concurrent request with the same form key stored
    first (INSERT ... ON CONFLICT DO NOTHING: no savepoint, which SQLite's driver would turn
    into an early commit)."""
    columns = PartnershipAnswer.__table__.columns
    values = {c.key: getattr(answer, c.key) for c in columns if c.key != "id"}
    dialect = db.session.get_bind().dialect.name
    # Imported here: the PostgreSQL dialect takes ~50 ms to import, at every start otherwise.
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(PartnershipAnswer)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["form_key"])
        .returning(PartnershipAnswer.id)
    )
    new_id = db.session.execute(statement).scalar()
    if new_id is None:
        done = _already_sent(answer.form_key, access)
        if done is None:  # pragma: no cover - the conflicting row is committed by then
            raise UserError("Your answer could not be saved; please send it again.")
        return done
    return Submitted(db.session.get_one(PartnershipAnswer, new_id), duplicate=False)


def _new_answer(access: LinkAccess, case: Case, kind: str, form_key: str, now: datetime):
    return PartnershipAnswer(
        case_id=case.id,
        contact_id=access.contact.id,
        contact_name=access.contact.name,
        contact_email=access.contact.email,
        kind=kind,
        status=AnswerStatus.PENDING,
        form_key=form_key,
        submitted_at=now,
        rows=[],
        action_id=None,
        comment="",
        proposed_due_on=None,
        decided_at=None,
        decided_by_id=None,
        decision_message="",
    )


def _received(answer: PartnershipAnswer, case: Case, message: str, now: datetime, **data):
    record_event(
        case,
        EventKind.ANSWER_RECEIVED,
        message,
        now=now,
        data={"answer_id": answer.id, "contact_name": answer.contact_name, **data},
    )
    answer_mail.notify_rep(answer, now, message)
    answer_mail.confirm_to_contact(answer, now, message)
    log.info(
        "partnership answer %s (%s) from contact %s on case %s",
        answer.id,
        answer.kind,
        answer.contact_id,
        case.id,
    )


def submit_membership(
    access: LinkAccess,
    rows: Sequence[ProposedRow],
    *,
    recorded_ids: set[str],
    form_key: str,
    seen: int,
    now: datetime,
) -> Submitted:
    """A contact proposes a roster. Pending proposals of the area that the contact had seen
    (ids up to `seen`) or sent themselves are superseded; one sent meanwhile by another
    contact stays, to be decided on its own."""
    case = _open_case(access)
    _check_form_key(form_key)
    if (done := _already_sent(form_key, access)) is not None:
        return done
    rows = clean_rows(rows, recorded_ids)
    errors = row_errors(rows)
    if errors:
        raise InvalidInput(errors)
    answer = _new_answer(access, case, AnswerKind.MEMBERSHIP, form_key, now)
    answer.rows = [
        {"person_id": r.person_id, "name": r.name, "resident": r.resident, "role": r.role}
        for r in rows
    ]
    stored = _store(answer, access)
    if stored.duplicate:
        return stored
    answer = stored.answer
    replaced = _supersede(case, answer, seen, now)
    evaluation = proposed_evaluation(rows)
    message = (
        f"Membership update from {answer.contact_name}: {evaluation.members} members,"
        f" {evaluation.residents} of them residents ({evaluation_words(evaluation)})."
        " Waiting for the rep to accept or decline it."
    )
    if replaced:
        names = ", ".join(
            f"{a.contact_name} ({day_words(london_date(a.submitted_at))})" for a in replaced
        )
        message += f" It replaces the update not yet decided from {names}."
    _received(answer, case, message, now, superseded=[a.id for a in replaced])
    return Submitted(answer, duplicate=False)


def _supersede(
    case: Case, newer: PartnershipAnswer, seen: int, now: datetime
) -> list[PartnershipAnswer]:
    older = db.session.scalars(
        select(PartnershipAnswer)
        .where(
            PartnershipAnswer.case_id == case.id,
            PartnershipAnswer.kind == AnswerKind.MEMBERSHIP,
            PartnershipAnswer.status == AnswerStatus.PENDING,
            PartnershipAnswer.id != newer.id,
            or_(PartnershipAnswer.id <= seen, PartnershipAnswer.contact_id == newer.contact_id),
        )
        .order_by(PartnershipAnswer.id)
    ).all()
    for answer in older:
        answer.status = AnswerStatus.SUPERSEDED
        answer.decided_at = now
    return list(older)


def partnership_action(case: Case, action_id: int) -> Action | None:
    """An open action the partnership owns on this case (None for anything else)."""
    return db.session.scalar(
        select(Action)
        .join(ActionPlan, ActionPlan.id == Action.plan_id)
        .where(
            Action.id == action_id,
            ActionPlan.case_id == case.id,
            Action.owner == Owner.PARTNERSHIP,
            Action.status == ActionStatus.OPEN,
        )
    )


def _action_for(access: LinkAccess, action_id: int) -> tuple[Case, Action]:
    case = _open_case(access)
    action = partnership_action(case, action_id)
    if action is None:
        raise UserError("That action is not open any more: it may have been done or changed.")
    return case, action


def submit_action_done(
    access: LinkAccess, action_id: int, *, comment: str, form_key: str, now: datetime
) -> Submitted:
    """The contact reports an action done: it is marked done at once (the rep can reopen it)."""
    _check_form_key(form_key)
    if (done := _already_sent(form_key, access)) is not None:
        return done
    case, action = _action_for(access, action_id)
    comment = (comment or "").strip()
    problem = _text_error(comment, "a comment", MAX_COMMENT, required=True, multiline=True)
    if problem:
        raise InvalidInput({"comment": problem})
    answer = _new_answer(access, case, AnswerKind.ACTION_DONE, form_key, now)
    answer.action_id, answer.comment = action.id, comment
    answer.status, answer.decided_at = AnswerStatus.ACCEPTED, now
    stored = _store(answer, access)
    if stored.duplicate:
        return stored
    answer = stored.answer
    mark_action_done(
        case,
        action,
        now=now,
        actor_id=None,
        words=f" Reported by {access.contact.name}.",
        data={"contact_name": access.contact.name, "answer_id": answer.id},
    )
    message = (
        f"{answer.contact_name} reported “{action.description}” done: {comment}"
        " The action is marked done; the rep can reopen it."
    )
    _received(answer, case, message, now, action_id=action.id)
    return Submitted(answer, duplicate=False)


def submit_more_time(
    access: LinkAccess,
    action_id: int,
    *,
    due_on: date | None,
    why: str,
    form_key: str,
    now: datetime,
) -> Submitted:
    """The contact asks for a later due date, and why; it waits for the rep's yes or no."""
    _check_form_key(form_key)
    if (done := _already_sent(form_key, access)) is not None:
        return done
    case, action = _action_for(access, action_id)
    why = (why or "").strip()
    errors = _more_time_errors(action, due_on, why, london_date(now))
    if errors:
        raise InvalidInput(errors)
    answer = _new_answer(access, case, AnswerKind.MORE_TIME, form_key, now)
    answer.action_id, answer.comment, answer.proposed_due_on = action.id, why, due_on
    stored = _store(answer, access)
    if stored.duplicate:
        return stored
    answer = stored.answer
    message = (
        f"{answer.contact_name} asks for more time for “{action.description}”: until"
        f" {day_words(due_on)} instead of {day_words(action.due_on)}, because: {why}"
        " Waiting for the rep's yes or no."
    )
    _received(answer, case, message, now, action_id=action.id)
    return Submitted(answer, duplicate=False)


def _more_time_errors(action: Action, due_on: date | None, why: str, today: date):
    errors: dict[str, str] = {}
    if due_on is None:
        errors["due_on"] = "Enter the date you propose, for example 27 3 2027."
    elif due_on <= max(today, action.due_on or today):
        errors["due_on"] = "The date you propose must be after the current due date and today."
    elif due_on > today + timedelta(days=MAX_MORE_TIME_DAYS):
        errors["due_on"] = "The date you propose must be within a year from today."
    problem = _text_error(why, "why you need more time", MAX_COMMENT, required=True, multiline=True)
    if problem:
        errors["why"] = problem
    return errors


# --- the rep's decisions ----------------------------------------------------------------------


def _pending(answer: PartnershipAnswer, kind: str) -> None:
    if answer.kind != kind:
        raise UserError("That answer can't be decided this way.")
    if answer.status != AnswerStatus.PENDING:
        raise UserError("That answer has been dealt with already.")


def _decided(answer: PartnershipAnswer, status: str, actor: User, now: datetime, message: str):
    answer.status = status
    answer.decided_at = now
    answer.decided_by_id = actor.id
    answer.decision_message = message


def _message(message: str, *, required: bool) -> str:
    message = (message or "").strip()
    problem = _text_error(
        message, "a message to the partnership", MAX_MESSAGE, required=required, multiline=True
    )
    if problem:
        raise InvalidInput({"message": problem})
    return message


def entries_for(answer: PartnershipAnswer) -> list[EntryInput]:
    """The proposed roster as a membership update: new people get an id made here."""
    code = answer.case.area.code
    return [
        EntryInput(
            row["person_id"] or f"web-{code}-{secrets.token_hex(5)}",
            row["name"],
            bool(row["resident"]),
            row["role"],
        )
        for row in answer.rows
    ]


def accept_membership(answer: PartnershipAnswer, actor: User, now: datetime) -> str:
    """The proposal becomes an in-year update dated when the contact sent it, through the
    rep's own membership-update operation (the case rules run as for the rep's update)."""
    _pending(answer, AnswerKind.MEMBERSHIP)
    case = answer.case
    sent_on = london_date(answer.submitted_at)
    origin = f"proposed by {answer.contact_name} on {day_words(sent_on)}, accepted"
    result = update_membership(case, entries_for(answer), actor, now, on=sent_on, origin=origin)
    _decided(answer, AnswerStatus.ACCEPTED, actor, now, "")
    if result.outcome == "nothing_changed":  # update_membership stored nothing
        record_event(
            case,
            EventKind.ANSWER_ACCEPTED,
            f"Membership update from {answer.contact_name} accepted: it is the roster already"
            " recorded, so nothing changed.",
            now=now,
            actor_id=actor.id,
            data={"answer_id": answer.id},
        )
    answer_mail.tell_decision(answer, now, result.message)
    log.info("partnership answer %s accepted on case %s by user %s", answer.id, case.id, actor.id)
    return result.message


def decline(answer: PartnershipAnswer, message: str, actor: User, now: datetime) -> None:
    """No to a membership update or to more time; the message is mailed to the contact."""
    if answer.kind not in (AnswerKind.MEMBERSHIP, AnswerKind.MORE_TIME):
        raise UserError("That answer can't be declined; reopen the action instead.")
    _pending(answer, answer.kind)
    _check_rep(answer.case, actor)
    message = _message(message, required=True)
    _decided(answer, AnswerStatus.DECLINED, actor, now, message)
    what = "Membership update" if answer.kind == AnswerKind.MEMBERSHIP else "More time"
    record_event(
        answer.case,
        EventKind.ANSWER_DECLINED,
        f"{what} from {answer.contact_name} declined: {message}",
        now=now,
        actor_id=actor.id,
        data={"answer_id": answer.id},
    )
    answer_mail.tell_decision(answer, now, message)
    log.info("partnership answer %s declined by user %s", answer.id, actor.id)


def accept_more_time(answer: PartnershipAnswer, actor: User, now: datetime) -> None:
    """Yes to more time: the action's due date moves (the action-update operation)."""
    _pending(answer, AnswerKind.MORE_TIME)
    action = answer.action
    if action is None or action.status != ActionStatus.OPEN:
        raise UserError("That action is not open any more.")
    old_due = action.due_on
    edit_action(
        answer.case,
        action,
        description=action.description,
        owner=action.owner,
        due_on=answer.proposed_due_on,
        actor=actor,
        now=now,
    )
    _decided(answer, AnswerStatus.ACCEPTED, actor, now, "")
    words = (
        f"More time from {answer.contact_name} accepted: “{action.description}” is now due"
        f" {day_words(action.due_on)} (was {day_words(old_due)})."
    )
    record_event(
        answer.case,
        EventKind.ANSWER_ACCEPTED,
        words,
        now=now,
        actor_id=actor.id,
        data={"answer_id": answer.id, "action_id": action.id},
    )
    answer_mail.tell_decision(answer, now, words)
    log.info("partnership answer %s (more time) accepted by user %s", answer.id, actor.id)


def reopen(answer: PartnershipAnswer, message: str, actor: User, now: datetime) -> None:
    """The action reported done is not done: it is open again, and the contact is told why."""
    if answer.kind != AnswerKind.ACTION_DONE or answer.status != AnswerStatus.ACCEPTED:
        raise UserError("Only an action the partnership reported done can be reopened here.")
    message = _message(message, required=True)
    action = answer.action
    if action is None:
        raise UserError("That action no longer exists.")
    reopen_action(answer.case, action, actor=actor, now=now, reason=message)
    _decided(answer, AnswerStatus.DECLINED, actor, now, message)
    answer_mail.tell_decision(answer, now, message)
    log.info("partnership answer %s: action %s reopened by user %s", answer.id, action.id, actor.id)


def _check_rep(case: Case, actor: User) -> None:
    if actor.role != UserRole.PROGRAMME and case.rep_id != actor.id:
        raise UserError("This case is not assigned to you.")


def request_update(case: Case, message: str, actor: User, now: datetime) -> int:
    """The rep asks the partnership's contacts for an update: one mail to each contact who
    gets mail, each with their personal link; returns how many were queued."""
    _check_rep(case, actor)
    if not case.is_open:
        raise UserError("This case is not open: there is nothing to ask for.")
    message = _message(message, required=False)
    contacts = [c for c in case.area.contacts if not c.opted_out]
    if not contacts:
        raise UserError("No contact of this partnership gets email (none, or all opted out).")
    for contact in contacts:
        answer_mail.request_update_mail(case, contact, message, actor.name, now)
    names = ", ".join(c.name for c in contacts)
    record_event(
        case,
        EventKind.UPDATE_REQUESTED,
        f"Asked {names} for an update through their personal link."
        + (f" Message: {message}" if message else ""),
        now=now,
        actor_id=actor.id,
        data={"contacts": [c.id for c in contacts]},
    )
    return len(contacts)
