"""The rep's side of the partnership's answers on the case page: accept, decline, reopen, and
ask the partnership for an update. Thin: parse the form, call the operation, commit."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import PartnershipAnswer
from app.operations import partnership_answers as answers
from app.rules.vocabulary import AnswerKind
from app.web.access import case_or_404, login_required
from app.web.cases import bp
from app.web.cases.forms import AnswerDecisionForm, RequestUpdateForm
from app.web.cases.views import INVALID, _save, _show


def _answer_or_404(case_id: int, answer_id: int) -> PartnershipAnswer:
    case = case_or_404(case_id)
    answer = db.session.scalar(
        select(PartnershipAnswer).where(
            PartnershipAnswer.id == answer_id, PartnershipAnswer.case_id == case.id
        )
    )
    if answer is None:
        abort(404)
    return answer


def _decide(case_id: int, answer_id: int, change: Callable, done: str):
    answer = _answer_or_404(case_id, answer_id)
    form = AnswerDecisionForm()
    if not form.validate_on_submit():
        return _show(case_id, INVALID, decision_form=form)
    outcome, result = _save(form, lambda: change(answer, form.message.data or ""))
    if outcome == "invalid":
        return _show(case_id, INVALID, decision_form=form)
    if outcome == "done":
        flash(result if isinstance(result, str) else done, "success")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="answers"))


@bp.post("/cases/<int:case_id>/answers/<int:answer_id>/accept")
@login_required
def accept_answer(case_id: int, answer_id: int):
    def accept(answer: PartnershipAnswer, _message: str):
        if answer.kind == AnswerKind.MORE_TIME:
            answers.accept_more_time(answer, current_user, clock.now())
            return "More time accepted: the due date has moved."
        return answers.accept_membership(answer, current_user, clock.now()) + "."

    return _decide(case_id, answer_id, accept, "Accepted.")


@bp.post("/cases/<int:case_id>/answers/<int:answer_id>/decline")
@login_required
def decline_answer(case_id: int, answer_id: int):
    return _decide(
        case_id,
        answer_id,
        lambda answer, message: answers.decline(answer, message, current_user, clock.now()),
        "Declined: the contact gets your message by email.",
    )


@bp.post("/cases/<int:case_id>/answers/<int:answer_id>/reopen")
@login_required
def reopen_answer(case_id: int, answer_id: int):
    return _decide(
        case_id,
        answer_id,
        lambda answer, message: answers.reopen(answer, message, current_user, clock.now()),
        "Action reopened: the contact gets your message by email.",
    )


@bp.post("/cases/<int:case_id>/request-update")
@login_required
def request_update(case_id: int):
    case = case_or_404(case_id)
    form = RequestUpdateForm()
    if not form.validate_on_submit():
        return _show(case_id, INVALID, request_form=form)
    outcome, count = _save(
        form,
        lambda: answers.request_update(case, form.message.data or "", current_user, clock.now()),
    )
    if outcome == "invalid":
        return _show(case_id, INVALID, request_form=form)
    if outcome == "done":
        flash(f"Update requested: {count} email(s) queued, each with a personal link.", "success")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="answers"))
