"""The programme team's case pages: all cases (filters, sorting, pages, CSV), the unassigned
queue, assigning a case and closing it."""

from __future__ import annotations

from math import ceil
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app import clock
from app.extensions import db
from app.models import Case
from app.operations.assignment import assign_case, close_case
from app.operations.bulk import BULK_ACTIONS, bulk_change
from app.operations.errors import UserError
from app.operations.text import parse_count
from app.queries.case_filters import SORTS, CaseFilters
from app.queries.case_list import (
    PER_PAGE,
    all_case_rows,
    assignable_users,
    list_page,
    region_choices,
    rep_choices,
    unassigned_open_cases,
)
from app.rules.vocabulary import FLAGS, OPEN_STATUSES, STATUSES
from app.web.access import programme_required
from app.web.exports import csv_response
from app.web.listing import without_empty_parameters
from app.web.programme import bp, display
from app.web.programme.forms import MAX_REASON, reason_from, rep_from, version_from
from app.web.redirects import safe_next

display.register(bp)

CSV_HEADER = (
    "case_id",
    "area_code",
    "area_name",
    "flag",
    "reasons",
    "status",
    "rep",
    "members",
    "residents",
    "opened_on",
    "returned_on",
    "resolved_on",
    "closed_on",
    "overdue_actions",
    "escalated_count",
    "last_activity_at",
)


def _page_arg() -> int:
    return parse_count(request.args.get("page", "1")) or 1


def _field_id(error: str) -> str:
    """CaseFilters errors start with the field name in words: 'opened from: ...'."""
    return "f-" + error.partition(":")[0].strip().replace(" ", "_")


@bp.get("/cases")
@programme_required
def cases():
    if (clean := without_empty_parameters()) is not None:
        return clean
    filters, errors = CaseFilters.from_args(request.args)
    now = clock.now()
    rows, total = list_page(filters, now, _page_arg(), PER_PAGE)
    pages = max(1, ceil(total / PER_PAGE))
    page = min(_page_arg(), pages)
    return render_template(
        "programme/cases.html",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        per_page=PER_PAGE,
        filters=filters,
        args=request.args,
        errors=[(_field_id(e), e[:1].upper() + e[1:]) for e in errors],
        statuses=STATUSES,
        flags=FLAGS,
        sorts=SORTS,
        reps=rep_choices(),
        regions=region_choices(),
        users=assignable_users(),
        bulk_actions=BULK_ACTIONS,
        filters_query=urlencode(filters.to_args()),
    )


@bp.get("/cases.csv")
@programme_required
def cases_csv():
    filters, _errors = CaseFilters.from_args(request.args)
    rows = all_case_rows(filters, clock.now())
    body = (
        (
            r.case_id,
            r.area_code,
            r.area_name,
            r.flag,
            "; ".join(r.reasons),
            r.status,
            r.rep_name or "",
            r.members,
            r.residents,
            r.opened_on,
            r.returned_on,
            r.resolved_on,
            r.closed_on,
            r.overdue_actions,
            r.escalated_count,
            r.last_activity_at.isoformat(timespec="seconds"),
        )
        for r in rows
    )
    return csv_response(CSV_HEADER, body, "cases.csv")


@bp.get("/cases/unassigned")
@programme_required
def unassigned():
    return render_template(
        "programme/unassigned.html",
        rows=unassigned_open_cases(clock.now()),
        users=assignable_users(),
    )


def _case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        abort(404)
    return case


def _back(case_id: int) -> str:
    return safe_next(request.values.get("next")) or display.case_url(case_id)


@bp.post("/cases/<int:case_id>/assign")
@programme_required
def assign(case_id: int):
    case = _case(case_id)
    try:
        version = version_from(request.form)
        rep = rep_from(request.form)
        event = assign_case(
            case, rep, actor=current_user, now=clock.now(), expected_version=version
        )
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(_back(case_id))
    if event is None:
        flash(f"Case #{case_id} was already assigned that way: nothing changed.", "info")
    else:
        flash(f"{case.area.code}, case #{case_id}: {event.message}", "success")
    return redirect(_back(case_id))


@bp.route("/cases/<int:case_id>/close", methods=["GET", "POST"])
@programme_required
def close(case_id: int):
    case = _case(case_id)
    if case.status not in OPEN_STATUSES:
        flash(f"Case #{case_id} is already {display.status_words(case.status).lower()}.", "info")
        return redirect(_back(case_id))
    error = None
    if request.method == "POST":
        try:
            version = version_from(request.form)
        except UserError as exc:
            flash(str(exc), "error")
            return redirect(_back(case_id))
        try:
            reason = reason_from(request.form)
        except UserError as exc:
            error = str(exc)  # shown on the form, next to the reason
        else:
            try:
                close_case(
                    case, reason, actor=current_user, now=clock.now(), expected_version=version
                )
                db.session.commit()
            except UserError as exc:
                db.session.rollback()
                flash(str(exc), "error")
                return redirect(_back(case_id))
            flash(f"{case.area.code}, case #{case_id} is closed.", "success")
            return redirect(_back(case_id))
    return render_template(
        "programme/close.html",
        case=case,
        error=error,
        reason=request.form.get("reason", ""),
        version=request.form.get("version") or case.version,
        next_url=safe_next(request.values.get("next")),
    ), (400 if error else 200)


def _bulk_items(filters_args) -> list[tuple[int, int | None]]:
    """The chosen cases: 'id:version' checkboxes, or every case matching the saved filters."""
    if request.form.get("all_matching") == "1":
        filters, _errors = CaseFilters.from_args(filters_args)
        return [(r.case_id, None) for r in all_case_rows(filters, clock.now())]
    items: list[tuple[int, int | None]] = []
    for raw in request.form.getlist("case"):
        case_id, _, version = raw.partition(":")
        if case_id.isdigit() and version.isdigit():
            items.append((int(case_id), int(version)))
    return items


@bp.post("/cases/bulk")
@programme_required
def bulk():
    filters_args = MultiDict(parse_qsl(request.form.get("filters", ""), keep_blank_values=False))
    back_args: dict[str, Any] = filters_args.to_dict(flat=False)
    back = url_for("programme.cases", **back_args)
    items = _bulk_items(filters_args)
    if not items:
        flash("Select at least one case (or all cases matching the filters).", "error")
        return redirect(back)
    action = request.form.get("action", "")
    try:
        rep = rep_from(request.form) if action == "assign" else None
        outcome = bulk_change(
            items,
            action,
            actor=current_user,
            now=clock.now(),
            rep=rep,
            reason=(request.form.get("reason") or "")[:MAX_REASON],
        )
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back)
    return render_template(
        "programme/bulk_result.html", outcome=outcome, action=BULK_ACTIONS[action], back=back
    )
