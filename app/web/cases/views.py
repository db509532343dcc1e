"""Views of the casework pages: thin — parse the form, call the operation, commit, redirect."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import clock
from app.extensions import db
from app.models import Action, ActionPlan, Case
from app.operations import case_actions as ops
from app.operations import reminder_pause
from app.operations.errors import UserError
from app.operations.snapshots import EntryInput
from app.operations.versions import CONFLICT_MESSAGE, ConflictError
from app.queries.case_answers import case_answers
from app.queries.case_list import assignable_users
from app.queries.case_page import EVENT_GROUPS, case_page, current_roster
from app.queries.my_cases import my_cases
from app.rules.calendar import london_day_words
from app.rules.cases import OpenCaseState, Outcome, decide
from app.rules.criteria import evaluate
from app.rules.vocabulary import MEMBER_ROLE_WORDS, CaseStatus
from app.settings import criteria_thresholds
from app.web import distance_words
from app.web.access import case_or_404, login_required
from app.web.cases import bp
from app.web.cases.forms import (
    BLANK_ROWS,
    ActionForm,
    ActionStateForm,
    AnswerDecisionForm,
    ContactForm,
    EditActionForm,
    MembershipForm,
    NoteForm,
    PauseForm,
    PlanForm,
    RequestUpdateForm,
    ResumeForm,
    StatusForm,
)
from app.web.form_errors import attach_errors
from app.web.outbox.views import STATUS_BADGES
from app.web.page_cache import cached_page

INVALID = 422  # the form is shown again with its errors


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"outbox_badges": STATUS_BADGES}


@bp.app_template_filter("fromisodate")
def _from_iso_date(value: str) -> date:
    return date.fromisoformat(value)


# --- pages ----------------------------------------------------------------------------------


@bp.get("/my-cases")
@login_required
@cached_page
def mine():
    return render_template("cases/mine.html", rows=my_cases(current_user, clock.now()))


@bp.get("/cases/<int:case_id>")
@login_required
@cached_page
def show(case_id: int):
    case_or_404(case_id)
    return _show(case_id)


def _show(case_id: int, status: int = 200, **forms: Any):
    page = case_page(case_id, current_user, clock.now(), request.args.get("events", "all"))
    version = page.case.version
    forms.setdefault("status_form", StatusForm(formdata=None, version=version))
    forms.setdefault("note_form", NoteForm(formdata=None))
    forms.setdefault("contact_form", ContactForm(formdata=None, on=page.today))
    forms.setdefault("action_form", ActionForm(formdata=None))
    forms.setdefault("pause_form", PauseForm(formdata=None, version=version))
    forms.setdefault("resume_form", ResumeForm(formdata=None, version=version))
    state_form = ActionStateForm(formdata=None, version=version)
    forms.setdefault("request_form", RequestUpdateForm(formdata=None))
    rep_users = assignable_users() if current_user.is_programme else []
    html = render_template(
        "cases/show.html",
        page=page,
        answers=case_answers(page.case, page.roster, MEMBER_ROLE_WORDS),
        decision_form=forms.pop("decision_form", None) or AnswerDecisionForm(formdata=None),
        groups=EVENT_GROUPS,
        state_form=state_form,
        rep_users=rep_users,
        **forms,
    )
    return html, status


# --- saving ---------------------------------------------------------------------------------


ADDITION_ATTEMPTS = 3  # an addition that met a simultaneous change is simply run again
CONFLICT = 409  # the form is shown again with what was typed and the conflict message


def _save(form, change: Callable[[], Any], *, addition: bool = False) -> tuple[str, Any]:
    """Run the operation and commit. ('done', result), ('conflict', None) with the conflict
    message put on the form, or ('invalid', None) with the errors put on the form; nothing is
    kept unless done.

    An `addition` (a note, an action, a contact) has no version to be stale: if it meets a
    simultaneous change it is run again on the fresh case instead of being refused."""
    attempts = ADDITION_ATTEMPTS if addition else 1
    for attempt in range(1, attempts + 1):
        try:
            result = change()
            db.session.commit()
        except (ConflictError, StaleDataError, IntegrityError) as exc:
            # StaleDataError: the row's version changed between our read and our write;
            # IntegrityError: a concurrent first plan or same-day membership update won the race.
            db.session.rollback()
            if not isinstance(exc, ConflictError):
                current_app.logger.info(
                    "casework conflict (attempt %d of %d): %s",
                    attempt,
                    attempts,
                    exc.__class__.__name__,
                )
            if attempt < attempts and not isinstance(exc, ConflictError):
                continue
            form.form_errors.append(CONFLICT_MESSAGE)
            return "conflict", None
        except ops.InvalidInput as exc:
            db.session.rollback()
            attach_errors(form, exc.errors)
            return "invalid", None
        except UserError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            return "invalid", None
        return "done", result
    raise AssertionError("unreachable")  # pragma: no cover


def _refused(outcome: str, form, version: int | None = None) -> int:
    """The HTTP status of a form shown again; after a conflict the form carries the version
    the user now sees, so sending it again (after reviewing) is a deliberate choice."""
    if outcome != "conflict":
        return INVALID
    if version is not None:
        form.version.data, form.version.raw_data = str(version), None
    return CONFLICT


def _back(case_id: int, anchor: str | None = None):
    return redirect(url_for(".show", case_id=case_id, _anchor=anchor))


@bp.post("/cases/<int:case_id>/status")
@login_required
def status(case_id: int):
    case = case_or_404(case_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return _show(case_id, INVALID, status_form=form)
    outcome, words = _save(
        form,
        lambda: ops.change_status(
            case,
            form.target.data,
            current_user,
            clock.now(),
            expected_version=form.version_number(),
        ),
    )
    if outcome != "done":
        return _show(case_id, _refused(outcome, form), status_form=form)
    flash(f"{words}.", "success")
    return _back(case_id)


@bp.post("/cases/<int:case_id>/contacts")
@login_required
def contact(case_id: int):
    case = case_or_404(case_id)
    form = ContactForm()
    if not form.validate_on_submit():
        return _show(case_id, INVALID, contact_form=form)
    was_new = case.status == CaseStatus.NEW
    outcome, _ = _save(
        form,
        lambda: ops.record_contact(
            case,
            on=form.on.data,
            method=form.method.data,
            with_whom=form.with_whom.data,
            outcome=form.outcome.data,
            actor=current_user,
            now=clock.now(),
        ),
        addition=True,
    )
    if outcome != "done":
        return _show(case_id, _refused(outcome, form), contact_form=form)
    flash("Contact recorded." + (" The case is now contacted." if was_new else ""), "success")
    return _back(case_id)


@bp.post("/cases/<int:case_id>/notes")
@login_required
def note(case_id: int):
    case = case_or_404(case_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _show(case_id, INVALID, note_form=form)
    outcome, _ = _save(
        form,
        lambda: ops.add_note(case, form.note.data, current_user, clock.now()),
        addition=True,
    )
    if outcome != "done":
        return _show(case_id, _refused(outcome, form), note_form=form)
    flash("Note added.", "success")
    return _back(case_id, "timeline")


@bp.route("/cases/<int:case_id>/plan", methods=["GET", "POST"])
@login_required
def plan(case_id: int):
    case = case_or_404(case_id)
    current = case.plan
    if request.method == "GET":
        form = PlanForm(obj=current, version=current.version if current else 0)
        return render_template("cases/plan.html", case=case, form=form)
    form = PlanForm()
    if form.validate_on_submit():
        outcome, changed = _save(
            form,
            lambda: ops.save_plan(
                case,
                barriers=form.barriers.data or [],
                barriers_text=form.barriers_text.data or "",
                target_members=form.target_members.data,
                target_on=form.target_on.data,
                support=form.support.data or [],
                actor=current_user,
                now=clock.now(),
                expected_version=form.version_number(),
            ),
        )
        if outcome == "done":
            flash(_plan_message(changed), "success")
            return _back(case_id, "plan")
        status = _refused(outcome, form, case.plan.version if case.plan else 0)
        return render_template("cases/plan.html", case=case, form=form), status
    return render_template("cases/plan.html", case=case, form=form), INVALID


def _plan_message(changed: list[str]) -> str:
    if not changed:
        return "No changes to the plan."
    if "created" in changed:
        return "Plan saved."
    names = {"barriers_text": "barrier notes", "target_members": "target members"}
    names |= {"target_on": "target date"}
    return "Plan saved: " + ", ".join(names.get(c, c) for c in changed) + " changed."


@bp.post("/cases/<int:case_id>/actions")
@login_required
def add_action(case_id: int):
    case = case_or_404(case_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _show(case_id, INVALID, action_form=form)
    outcome, action = _save(
        form,
        lambda: ops.add_action(
            case,
            description=form.description.data,
            owner=form.owner.data,
            due_on=form.due_on.data,
            actor=current_user,
            now=clock.now(),
        ),
        addition=True,
    )
    if outcome != "done":
        return _show(case_id, _refused(outcome, form), action_form=form)
    flash(f"Action added: {action.description}", "success")
    return _back(case_id, "plan")


def _action_or_404(case: Case, action_id: int) -> Action:
    action = db.session.scalar(
        select(Action)
        .join(Action.plan)
        .where(Action.id == action_id, ActionPlan.case_id == case.id)
    )
    if action is None:
        abort(404)
    return action


@bp.route("/cases/<int:case_id>/actions/<int:action_id>/edit", methods=["GET", "POST"])
@login_required
def edit_action(case_id: int, action_id: int):
    case = case_or_404(case_id)
    action = _action_or_404(case, action_id)
    if request.method == "GET":
        form = EditActionForm(obj=action, version=case.version)
        return render_template("cases/action.html", case=case, action=action, form=form)
    form = EditActionForm()
    if form.validate_on_submit():
        outcome, changed = _save(
            form,
            lambda: ops.edit_action(
                case,
                action,
                description=form.description.data,
                owner=form.owner.data,
                due_on=form.due_on.data,
                actor=current_user,
                now=clock.now(),
                expected_version=form.version_number(),
            ),
        )
        if outcome == "done":
            flash("Action updated." if changed else "No changes to the action.", "success")
            return _back(case_id, "plan")
        status = _refused(outcome, form, case.version)
        return render_template("cases/action.html", case=case, action=action, form=form), status
    html = render_template("cases/action.html", case=case, action=action, form=form)
    return html, INVALID


@bp.post("/cases/<int:case_id>/actions/<int:action_id>/complete")
@login_required
def complete_action(case_id: int, action_id: int):
    return _close_action(case_id, action_id, ops.complete_action, "Action done")


@bp.post("/cases/<int:case_id>/actions/<int:action_id>/drop")
@login_required
def drop_action(case_id: int, action_id: int):
    return _close_action(case_id, action_id, ops.drop_action, "Action dropped")


def _close_action(case_id: int, action_id: int, operation: Callable, words: str):
    case = case_or_404(case_id)
    action = _action_or_404(case, action_id)
    form = ActionStateForm()
    if not form.validate_on_submit():
        flash("The form was incomplete; reload the page and try again.", "error")
        return _back(case_id, "plan")
    extra = {"reason": form.reason.data} if operation is ops.drop_action else {}
    description = action.description
    outcome, _ = _save(
        form,
        lambda: operation(
            case,
            action,
            actor=current_user,
            now=clock.now(),
            expected_version=form.version_number(),
            **extra,
        ),
    )
    if outcome != "done":
        flash(" ".join(form.form_errors) or "The action was not changed.", "error")
    else:
        flash(f"{words}: {description}", "success")
    return _back(case_id, "plan")


# --- pausing the partnership's reminders ----------------------------------------------------


@bp.post("/cases/<int:case_id>/reminders/pause")
@login_required
def pause_reminders(case_id: int):
    case = case_or_404(case_id)
    form = PauseForm()
    if not form.validate_on_submit():
        return _show(case_id, INVALID, pause_form=form)
    outcome, cancelled = _save(
        form,
        lambda: reminder_pause.pause_reminders(
            case,
            form.paused_until.data,
            form.pause_reason.data,
            actor=current_user,
            now=clock.now(),
            expected_version=form.version_number(),
        ),
    )
    if outcome != "done":
        return _show(case_id, _refused(outcome, form), pause_form=form)
    held = f" {cancelled} queued email(s) cancelled." if cancelled else ""
    until = london_day_words(form.paused_until.data)
    flash(f"Partnership reminders paused until {until}.{held}", "success")
    return _back(case_id, "reminders")


@bp.post("/cases/<int:case_id>/reminders/resume")
@login_required
def resume_reminders(case_id: int):
    case = case_or_404(case_id)
    form = ResumeForm()
    if not form.validate_on_submit():
        flash("The form was incomplete; reload the page and try again.", "error")
        return _back(case_id, "reminders")
    outcome, _ = _save(
        form,
        lambda: reminder_pause.resume_reminders(
            case, actor=current_user, now=clock.now(), expected_version=form.version_number()
        ),
    )
    if outcome != "done":
        flash(" ".join(form.form_errors) or "The reminders were not changed.", "error")
    else:
        flash("Partnership reminders resumed: the next sweep queues what is due.", "success")
    return _back(case_id, "reminders")


# --- membership -----------------------------------------------------------------------------


@bp.route("/cases/<int:case_id>/membership", methods=["GET", "POST"])
@login_required
def membership(case_id: int):
    case = case_or_404(case_id)
    roster_on, roster = current_roster(case.area_id)
    if request.method == "GET":
        rows = [
            {"person_id": r.person_id, "name": r.name, "resident": r.resident, "role": r.role}
            for r in roster
        ]
        rows += [{"role": "member"}] * BLANK_ROWS
        form = MembershipForm(version=case.version, rows=rows)
        return _membership_page(case, form, roster_on)
    form = MembershipForm()
    if form.validate_on_submit():
        entries = _entries(form, roster, case.area.code)
        if entries is not None and request.form.get("step") == "check":
            # The confirm step: what this roster would give, before anything is stored.
            return _membership_page(case, form, roster_on, preview=_preview(case, entries))
        if entries is not None:
            outcome, result = _save(
                form,
                lambda: ops.update_membership(
                    case, entries, current_user, clock.now(), expected_version=form.version_number()
                ),
            )
            if outcome == "done":
                flash(f"{result.message}.", "success")
                return _back(case_id)
            return _membership_page(case, form, roster_on, _refused(outcome, form, case.version))
    return _membership_page(case, form, roster_on, INVALID)


def _membership_page(case: Case, form: MembershipForm, roster_on, status: int = 200, preview=None):
    html = render_template(
        "cases/membership.html", case=case, form=form, roster_on=roster_on, preview=preview
    )
    return html, status


def _preview(case: Case, entries: list[EntryInput]) -> dict[str, Any]:
    """The evaluation the posted roster gives, and what the case rules would then do."""
    evaluation = evaluate(((e.resident, e.role) for e in entries), criteria_thresholds())
    unchanged = ops.same_roster(case.area_id, entries)
    state = OpenCaseState(flag=case.flag, returned=case.returned_on is not None)
    outcome = decide(state, evaluation.flag).outcome
    return {
        "evaluation": evaluation,
        "words": ops.evaluation_words(evaluation),
        "distance": distance_words(evaluation.members, evaluation.residents),
        "unchanged": unchanged,
        "effect": PREVIEW_WORDS[outcome],
    }


PREVIEW_WORDS = {
    Outcome.RESOLVE: "The case would be resolved: the area is back within criteria.",
    Outcome.RETURN: "The area would have returned within criteria; the case stays open at eight.",
    Outcome.ESCALATE: "The case would be escalated: the area would be under criteria again.",
    Outcome.UPDATE: "The case stays open with these figures.",
    Outcome.NOTHING: "The case stays as it is.",
    Outcome.OPEN: "The case stays as it is.",
}


def _entries(form: MembershipForm, roster, area_code: str) -> list[EntryInput] | None:
    """The roster as posted: removed rows and blank new rows left out; None if a kept row
    has no name (the error is put on its field)."""
    entries: list[EntryInput] = []
    ok = True
    # The hidden person_id is the client's word: only an id on this area's current roster is
    # kept; any other row is a new person with an id made here (see docs/security.md).
    on_roster = {r.person_id for r in roster}
    for row in form.rows:
        sub = row.form
        name = (sub.name.data or "").strip()
        if sub.remove.data:
            continue
        if not name:
            if sub.person_id.data:
                sub.name.errors = [*sub.name.errors, "Give the person's name, or tick Remove."]
                ok = False
            continue
        person_id = sub.person_id.data
        if person_id not in on_roster:
            person_id = f"web-{area_code}-{secrets.token_hex(5)}"
        entries.append(EntryInput(person_id, name, bool(sub.resident.data), sub.role.data))
    return entries if ok else None
