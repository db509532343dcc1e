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
from app.operations.versions import ConflictError
from app.queries.case_filters import SORT_COLUMNS, SORTS, CaseFilters
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
from app.settings import stale_after_days
from app.web.access import programme_required
from app.web.exports import csv_response
from app.web.listing import sort_headers, without_empty_parameters
from app.web.page_cache import cached_page
from app.web.programme import bp, display
from app.web.programme.forms import AssignForm, BulkForm, CloseForm, first_error
from app.web.redirects import safe_next
from app.web.saving import REFUSED, commit_or_flash

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
@cached_page
def cases():
    if (clean := without_empty_parameters()) is not None:
        return clean
    filters, errors = CaseFilters.from_args(request.args)
    now = clock.now()
    rows, total = list_page(filters, now, _page_arg(), PER_PAGE)
    pages = max(1, ceil(total / PER_PAGE))
    page = min(_page_arg(), pages)
    reps = rep_choices()
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
        reps=reps,
        tags=display.case_filter_tags(filters, dict(reps)),
        stale_days=stale_after_days(),
        headers=sort_headers("programme.cases", filters, SORT_COLUMNS),
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
    form = AssignForm()
    if not form.validate():
        flash(first_error(form), "error")
        return redirect(_back(case_id))
    event = commit_or_flash(
        lambda: assign_case(
            case,
            form.rep_id.data,
            actor=current_user,
            now=clock.now(),
            expected_version=form.version.data,
        )
    )
    if event is REFUSED:
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
    form = CloseForm(data={"version": case.version})
    status = 200
    if form.is_submitted():
        if not form.validate():
            if "version" in form.errors or "csrf_token" in form.errors:
                flash(first_error(form), "error")  # not the user's typing: nothing to show again
                return redirect(_back(case_id))
            status = 400
        else:
            try:
                close_case(
                    case,
                    form.reason.data,
                    actor=current_user,
                    now=clock.now(),
                    expected_version=form.version.data,
                )
                db.session.commit()
            except ConflictError as exc:
                # The typed reason comes back with the case as it is now (its new version):
                # closing again after a look is a deliberate choice.
                db.session.rollback()
                form.form_errors.append(str(exc))
                form.version.data, form.version.raw_data = case.version, None
                status = 409
            except UserError as exc:
                db.session.rollback()
                flash(str(exc), "error")
                return redirect(_back(case_id))
            else:
                flash(f"{case.area.code}, case #{case_id} is closed.", "success")
                return redirect(_back(case_id))
    return render_template(
        "programme/close.html",
        case=case,
        form=form,
        next_url=safe_next(request.values.get("next")),
    ), status


def _bulk_items(form: BulkForm, filters_args) -> list[tuple[int, int | None]]:
    """The chosen cases: 'id:version' checkboxes, or every case matching the saved filters."""
    if form.all_matching.data == "1":
        filters, _errors = CaseFilters.from_args(filters_args)
        return [(r.case_id, None) for r in all_case_rows(filters, clock.now())]
    return list(form.case.data or [])


@bp.post("/cases/bulk")
@programme_required
def bulk():
    form = BulkForm()
    form.validate()
    filters_args = MultiDict(parse_qsl(form.filters.data or "", keep_blank_values=False))
    back_args: dict[str, Any] = filters_args.to_dict(flat=False)
    back = url_for("programme.cases", **back_args)
    items = _bulk_items(form, filters_args)
    if not items:
        flash("Select at least one case (or all cases matching the filters).", "error")
        return redirect(back)
    action = form.action.data or ""
    if action == "assign" and form.rep_id.errors:
        flash(form.rep_id.errors[0], "error")
        return redirect(back)
    outcome = commit_or_flash(
        lambda: bulk_change(
            items,
            action,
            actor=current_user,
            now=clock.now(),
            rep=form.rep_id.data if action == "assign" else None,
            reason=form.reason.data or "",
        )
    )
    if outcome is REFUSED:
        return redirect(back)
    return render_template(
        "programme/bulk_result.html", outcome=outcome, action=BULK_ACTIONS[action], back=back
    )
