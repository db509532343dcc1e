"""The personal page of a partnership contact: thin views over the link check, the page query
and the answer operations. Each request is counted per link and per address first."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from app import clock
from app.extensions import db
from app.operations import partnership_answers as answers
from app.operations.case_actions import InvalidInput
from app.operations.errors import UserError
from app.operations.partnership_links import REFUSED, LinkAccess, LinkRefused, access_for_token
from app.operations.sign_in_limits import take_request
from app.queries.case_page import RosterRow
from app.queries.partnership_page import PartnershipPage, partnership_page, roster_digest
from app.rules.calendar import london_date
from app.rules.cases import OpenCaseState, Outcome, decide
from app.rules.criteria import Thresholds
from app.rules.distance import standing
from app.settings import criteria_thresholds
from app.web.access import public
from app.web.form_errors import attach_errors
from app.web.partnership import bp
from app.web.partnership.forms import BLANK_ROWS, MORE_ROWS, DoneForm, MoreTimeForm, RosterForm

log = logging.getLogger(__name__)

INVALID = 422
THANKS = "Thank you: your rep has been told, and we have emailed you a confirmation."
ALREADY = "We already have this answer: it was sent once, and your rep has been told."
ROSTER_CHANGED = (
    "The roster recorded for your partnership changed while you were editing it. It is shown "
    "again below as it is now: please make your changes again."
)
EFFECT_WORDS = {
    Outcome.RESOLVE: "If your rep accepts it, the partnership is back within criteria and the "
    "case is resolved.",
    Outcome.RETURN: "If your rep accepts it, the partnership is back within criteria, at the "
    "minimum: your rep stays in touch for a while.",
    Outcome.ESCALATE: "If your rep accepts it, the partnership is under criteria again.",
    Outcome.UPDATE: "If your rep accepts it, these become the partnership's figures.",
    Outcome.NOTHING: "If your rep accepts it, these become the partnership's figures.",
    Outcome.OPEN: "If your rep accepts it, these become the partnership's figures.",
}


def _thresholds() -> Thresholds:
    return criteria_thresholds()


def _open(token: str) -> tuple[LinkAccess | None, Any]:
    """The link's access, or the page to answer instead (limited, refused)."""
    now = clock.now()
    config = current_app.config
    address = request.remote_addr or "unknown"
    allowed = take_request(
        "partnership-address", address, config["PARTNERSHIP_LIMIT_PER_ADDRESS"], now=now
    ) and take_request("partnership-link", token, config["PARTNERSHIP_LIMIT_PER_TOKEN"], now=now)
    if not allowed:
        return None, (render_template("partnership/limited.html"), 429)
    try:
        return access_for_token(token, now), None
    except LinkRefused as refused:
        # The reason is for the operator only: the page is the same whatever it was.
        log.info("partnership link refused (%s) from %s", refused, address)
        return None, (render_template("partnership/refused.html", message=REFUSED), 404)


def _page(access: LinkAccess) -> PartnershipPage:
    return partnership_page(access, _thresholds())


@bp.get("/partnership/<token>")
@public
def page(token: str):
    access, refusal = _open(token)
    if access is None:
        return refusal
    return render_template(
        "partnership/page.html", page=_page(access), token=token, today=london_date(clock.now())
    )


# --- membership -------------------------------------------------------------------------------


def _fresh_roster_form(page: PartnershipPage) -> RosterForm:
    rows: list[dict[str, Any]] = [
        {"ref": f"r{i}", "name": r.name, "resident": r.resident, "role": r.role}
        for i, r in enumerate(page.roster)
    ]
    rows += [{"ref": "", "role": "member"}] * BLANK_ROWS
    return RosterForm(
        formdata=None,
        form_key=answers.new_form_key(),
        seen=str(page.latest_waiting_membership),
        basis=roster_digest(page.roster),
        rows=rows,
    )


def _membership_page(token: str, page: PartnershipPage, form: RosterForm, status=200, **extra):
    html = render_template(
        "partnership/membership.html", page=page, form=form, token=token, **extra
    )
    return html, status


@bp.route("/partnership/<token>/membership", methods=["GET", "POST"])
@public
def membership(token: str):
    access, refusal = _open(token)
    if access is None:
        return refusal
    page = _page(access)
    if page.case is None:
        return redirect(url_for(".page", token=token))
    if request.method == "GET":
        return _membership_page(token, page, _fresh_roster_form(page))
    form = RosterForm()
    if not form.validate_on_submit():
        return _membership_page(token, page, form, INVALID)
    if form.basis.data != roster_digest(page.roster):
        fresh = _fresh_roster_form(page)
        fresh.form_errors.append(ROSTER_CHANGED)
        return _membership_page(token, page, fresh, INVALID)
    step = request.form.get("step", "check")
    if step == "more":
        for _ in range(MORE_ROWS):
            form.rows.append_entry({"ref": "", "role": "member"})
        return _membership_page(token, page, form)
    rows, positions = _posted_rows(form, page.roster)
    if rows is None:
        return _membership_page(token, page, form, INVALID)
    if step != "send":
        return _membership_page(token, page, form, preview=_preview(page, rows))
    return _send_roster(token, access, page, form, rows, positions)


def _send_roster(token, access, page, form, rows, positions):
    try:
        sent = answers.submit_membership(
            access,
            rows,
            recorded_ids={r.person_id for r in page.roster},
            form_key=form.form_key.data or "",
            seen=int(form.seen.data) if (form.seen.data or "").isdigit() else 0,
            now=clock.now(),
        )
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        _attach_row_errors(form, exc.errors, positions)
        return _membership_page(token, page, form, INVALID)
    except UserError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return _membership_page(token, page, form, INVALID)
    flash(ALREADY if sent.duplicate else THANKS, "success")
    return redirect(url_for(".page", token=token), code=303)


def _posted_rows(form: RosterForm, roster: list[RosterRow]):
    """The roster as posted (people who left and blank new rows left out) and the form row of
    each; (None, []) when a recorded person's name was emptied (the error is on its field)."""
    by_ref = {f"r{i}": r for i, r in enumerate(roster)}
    rows: list[answers.ProposedRow] = []
    positions: list[int] = []
    ok = True
    for index, entry in enumerate(form.rows):
        sub = entry.form
        if sub.left.data:
            continue
        recorded = by_ref.get(sub.ref.data or "")
        name = (sub.name.data or "").strip()
        if not name:
            if recorded is not None:
                sub.name.errors = [*sub.name.errors, "Give the person's name, or tick Has left."]
                ok = False
            continue
        person_id = recorded.person_id if recorded is not None else ""
        rows.append(answers.ProposedRow(person_id, name, bool(sub.resident.data), sub.role.data))
        positions.append(index)
    return (rows, positions) if ok else (None, [])


def _attach_row_errors(form: RosterForm, errors: dict[str, str], positions: list[int]) -> None:
    for key, message in errors.items():
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "rows" and parts[1].isdigit():
            field = getattr(form.rows[positions[int(parts[1])]].form, parts[2])
            field.errors = [*field.errors, message]
        else:
            attach_errors(form, {key: message})


def _preview(page: PartnershipPage, rows: list[answers.ProposedRow]) -> dict[str, Any]:
    """What the rep would see: the evaluation of this roster and what accepting it would do."""
    evaluation = answers.proposed_evaluation(rows)
    recorded = {(r.person_id, r.name, bool(r.resident), r.role) for r in page.roster}
    posted = {(r.person_id, r.name, r.resident, r.role) for r in rows}
    case = page.case
    assert case is not None  # the page refuses a link whose area has no open case
    state = OpenCaseState(flag=case.flag, returned=case.returned_on is not None)
    return {
        "standing": standing(evaluation.members, evaluation.residents, _thresholds()),
        "unchanged": recorded == posted and len(rows) == len(page.roster),
        "effect": EFFECT_WORDS[decide(state, evaluation.flag).outcome],
    }


# --- actions ----------------------------------------------------------------------------------


def _action_page(token, page, action, status=200, done_form=None, more_form=None):
    done_form = done_form or DoneForm(formdata=None, form_key=answers.new_form_key())
    more_form = more_form or MoreTimeForm(formdata=None, form_key=answers.new_form_key())
    html = render_template(
        "partnership/action.html",
        page=page,
        action=action,
        token=token,
        done_form=done_form,
        more_form=more_form,
    )
    return html, status


def _action_or_page(token: str, action_id: int):
    access, refusal = _open(token)
    if access is None:
        return None, None, None, refusal
    page = _page(access)
    action = next((a for a in page.actions if a.id == action_id), None)
    if action is None:
        flash("That action is not open any more: it may have been done or changed.", "info")
        return None, None, None, redirect(url_for(".page", token=token), code=303)
    return access, page, action, None


@bp.get("/partnership/<token>/actions/<int:action_id>")
@public
def action(token: str, action_id: int):
    _access, page, found, other = _action_or_page(token, action_id)
    if other is not None:
        return other
    return _action_page(token, page, found)


@bp.post("/partnership/<token>/actions/<int:action_id>/done")
@public
def action_done(token: str, action_id: int):
    access, page, found, other = _action_or_page(token, action_id)
    if other is not None:
        return other
    form = DoneForm()
    if not form.validate_on_submit():
        return _action_page(token, page, found, INVALID, done_form=form)
    return _answer(
        token,
        form,
        lambda: answers.submit_action_done(
            access,
            found.id,
            comment=form.comment.data,
            form_key=form.form_key.data,
            now=clock.now(),
        ),
        lambda: _action_page(token, page, found, INVALID, done_form=form),
    )


@bp.post("/partnership/<token>/actions/<int:action_id>/more-time")
@public
def more_time(token: str, action_id: int):
    access, page, found, other = _action_or_page(token, action_id)
    if other is not None:
        return other
    form = MoreTimeForm()
    if not form.validate_on_submit():
        return _action_page(token, page, found, INVALID, more_form=form)
    return _answer(
        token,
        form,
        lambda: answers.submit_more_time(
            access,
            found.id,
            due_on=form.due_on.data,
            why=form.why.data,
            form_key=form.form_key.data,
            now=clock.now(),
        ),
        lambda: _action_page(token, page, found, INVALID, more_form=form),
    )


def _answer(token: str, form, submit, again):
    """Run the answer's operation and commit; on bad input show the form again."""
    try:
        sent = submit()
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        attach_errors(form, exc.errors)
        return again()
    except UserError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return again()
    flash(ALREADY if sent.duplicate else THANKS, "success")
    return redirect(url_for(".page", token=token), code=303)
