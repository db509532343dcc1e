"""Areas: the list (the programme team sees all, a rep theirs), an area's page with its
reviews, cases and contacts, its history as CSV, and changing its rep."""

from __future__ import annotations

from math import ceil

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import clock
from app.extensions import db
from app.models import Contact
from app.operations.assignment import set_area_rep
from app.operations.contacts import change_email, opt_back_in
from app.operations.errors import UserError
from app.operations.text import parse_count
from app.queries.areas import (
    AREA_FLAGS,
    AREA_SORT_COLUMNS,
    AREA_SORTS,
    PER_PAGE,
    AreaFilters,
    area_detail,
    area_history,
    area_page,
    contact_changes,
)
from app.queries.case_list import assignable_users, rep_choices
from app.rules.vocabulary import SnapshotKind
from app.web.access import area_or_404, login_required, programme_required
from app.web.areas import bp
from app.web.areas.forms import ContactEmailForm, OptInForm
from app.web.exports import csv_response
from app.web.listing import FilterTag, filter_tags, sort_headers, without_empty_parameters
from app.web.programme import display
from app.web.programme.forms import AreaRepForm, first_error
from app.web.saving import REFUSED, commit_or_flash

INVALID = 422  # the form is shown again with its errors
display.register(bp)


def _page_arg() -> int:
    return parse_count(request.args.get("page", "1")) or 1


@bp.get("/areas")
@login_required
def index():
    if (clean := without_empty_parameters()) is not None:
        return clean
    filters, errors = AreaFilters.from_args(request.args)
    rows, total, page = area_page(filters, current_user, _page_arg(), PER_PAGE)
    reps = rep_choices() if current_user.is_programme else []
    return render_template(
        "areas/index.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, ceil(total / PER_PAGE)),
        per_page=PER_PAGE,
        filters=filters,
        errors=[("a-" + field, message) for field, message in errors],
        area_flags=AREA_FLAGS,
        sorts=AREA_SORTS,
        reps=reps,
        tags=_filter_tags(filters, dict(reps)),
        headers=sort_headers("areas.index", filters, AREA_SORT_COLUMNS),
    )


def _filter_tags(f: AreaFilters, rep_names: dict[int, str]) -> list[FilterTag]:
    chosen: list[tuple[str, str]] = []
    if f.q:
        chosen.append(("q", f"Area: {f.q}"))
    if f.flag:
        chosen.append(("flag", f"Evaluation: {AREA_FLAGS[f.flag]}"))
    if f.rep == "none":
        chosen.append(("rep", "No rep"))
    elif f.rep is not None:
        chosen.append(("rep", f"Rep: {rep_names.get(int(f.rep), f'user {f.rep}')}"))
    return filter_tags("areas.index", f, chosen)


@bp.get("/areas/<code>")
@login_required
def show(code: str):
    area = area_or_404(code)
    detail = area_detail(area)
    return render_template(
        "areas/show.html",
        area=area,
        detail=detail,
        users=assignable_users() if current_user.is_programme else [],
    )


@bp.get("/areas/<code>/history.csv")
@login_required
def history_csv(code: str):
    area = area_or_404(code)
    header = (
        "area_code",
        "area_name",
        "kind",
        "review_year",
        "effective_on",
        "members",
        "residents",
        "flag",
        "reasons",
    )
    rows = (
        (
            area.code,
            area.name,
            "annual review" if s.kind == SnapshotKind.ANNUAL else "in-year update",
            s.review_year,
            s.effective_on.isoformat(),
            s.members,
            s.residents,
            s.flag or "",
            "; ".join(s.reasons or ()),
        )
        for s in reversed(area_history(area.id))
    )
    return csv_response(header, rows, f"{area.code}-history.csv")


@bp.post("/areas/<code>/rep")
@programme_required
def assign_rep(code: str):
    area = area_or_404(code)
    form = AreaRepForm()
    if not form.validate():
        flash(first_error(form), "error")
        return redirect(url_for("areas.show", code=code))
    also_open_case = form.also_open_case.data in ("1", "on", "yes", "true")
    change = commit_or_flash(
        lambda: set_area_rep(
            area,
            form.rep_id.data,
            actor=current_user,
            now=clock.now(),
            also_open_case=also_open_case,
        )
    )
    if change is REFUSED:
        return redirect(url_for("areas.show", code=code))
    if not change.changed:
        flash(f"{code} already has that rep: nothing changed.", "info")
    else:
        messages = [e.message for e in (change.audit, change.case_event) if e is not None]
        flash(" ".join(messages), "success")
    return redirect(url_for("areas.show", code=code))


# --- a partnership contact: change the address, record an opt back in ----------------------
# The rep of the area (any rep who sees it) and the programme team may do both.


def _contact_or_404(area, contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.area_id != area.id:
        abort(404)
    return contact


def _contact_page(area, contact: Contact, status: int = 200, **forms):
    forms.setdefault("email_form", ContactEmailForm(formdata=None))
    forms.setdefault("optin_form", OptInForm(formdata=None))
    html = render_template(
        "areas/contact.html",
        area=area,
        contact=contact,
        changes=contact_changes([contact.id]),
        **forms,
    )
    return html, status


@bp.get("/areas/<code>/contacts/<int:contact_id>")
@login_required
def contact(code: str, contact_id: int):
    area = area_or_404(code)
    return _contact_page(area, _contact_or_404(area, contact_id))


@bp.post("/areas/<code>/contacts/<int:contact_id>/email")
@login_required
def contact_email(code: str, contact_id: int):
    area = area_or_404(code)
    contact = _contact_or_404(area, contact_id)
    form = ContactEmailForm()
    if not form.validate_on_submit():
        return _contact_page(area, contact, INVALID, email_form=form)
    try:
        changed = change_email(contact, form.email.data, actor=current_user, now=clock.now())
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        form.email.errors = [str(exc)]
        return _contact_page(area, _contact_or_404(area, contact_id), INVALID, email_form=form)
    if changed:
        flash(f"{contact.name}'s email is now {contact.email}: reminders go there.", "success")
    else:
        flash(f"That is {contact.name}'s address already: nothing changed.", "info")
    return redirect(url_for("areas.contact", code=code, contact_id=contact_id), code=303)


@bp.post("/areas/<code>/contacts/<int:contact_id>/opt-in")
@login_required
def contact_opt_in(code: str, contact_id: int):
    area = area_or_404(code)
    contact = _contact_or_404(area, contact_id)
    form = OptInForm()
    if not form.validate_on_submit():
        return _contact_page(area, contact, INVALID, optin_form=form)
    try:
        opt_back_in(contact, form.consent.data, actor=current_user, now=clock.now())
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        form.consent.errors = [str(exc)]
        return _contact_page(area, _contact_or_404(area, contact_id), INVALID, optin_form=form)
    flash(f"{contact.name} receives reminder emails again.", "success")
    return redirect(url_for("areas.contact", code=code, contact_id=contact_id), code=303)
