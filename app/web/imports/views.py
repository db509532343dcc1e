"""Web imports at /imports: upload and check a file, preview what it would do, confirm it,
and the history of every import with its original file."""

from __future__ import annotations

import re
from math import ceil

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import clock
from app.extensions import db
from app.models.imports import BUSY_STATUSES
from app.operations.csvfile import ProblemReport
from app.operations.errors import UserError
from app.operations.import_runs import (
    PROGRESS,
    ImportRejected,
    confirm,
    discard,
    start_preview,
)
from app.operations.text import parse_count
from app.queries.import_runs import import_file, import_history, import_run
from app.web.access import programme_required
from app.web.exports import csv_response
from app.web.imports import bp
from app.web.imports.columns import COLUMN_HELP, TEMPLATE_ROWS
from app.web.imports.forms import KIND_CHOICES, ConfirmImportForm, DiscardImportForm, UploadForm
from app.web.programme import display
from app.web.request_checks import accepts_files

display.register(bp)

KIND_WORDS = {value: words for value, words in KIND_CHOICES}
REFRESH_SECONDS = 2


def _page_arg() -> int:
    return parse_count(request.args.get("page", "1")) or 1


def _upload_page(form: UploadForm, problems: ProblemReport | None = None, status: int = 200):
    recent, _total = import_history(1, per_page=5)
    return render_template(
        "imports/index.html",
        form=form,
        problems=problems,
        column_help=COLUMN_HELP,
        kind_words=KIND_WORDS,
        recent=recent,
    ), status


@bp.get("")
@programme_required
def index():
    return _upload_page(UploadForm())


@bp.post("")
@programme_required
@accepts_files
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, status=400)
    upload = form.file.data
    data = upload.read()
    try:
        run = start_preview(
            form.kind.data, upload.filename or "", data, actor=current_user, now=clock.now()
        )
    except ImportRejected as exc:
        report = exc.problems.report()
        form.file.errors = [f"The file has {report.total} problem(s); nothing was imported."]
        return _upload_page(form, report, status=400)
    except UserError as exc:
        form.file.errors = [str(exc)]
        return _upload_page(form, status=409)
    return redirect(url_for("imports.show", run_id=run.id), code=303)


@bp.get("/<int:run_id>")
@programme_required
def show(run_id: int):
    run = import_run(run_id)
    if run is None:
        abort(404)
    busy = run.status in BUSY_STATUSES
    return render_template(
        "imports/show.html",
        run=run,
        busy=busy,
        progress=PROGRESS.get(run.id),
        refresh=REFRESH_SECONDS if busy else None,
        kind_words=KIND_WORDS,
        confirm_form=ConfirmImportForm(sha256=run.sha256),
        discard_form=DiscardImportForm(),
    )


@bp.post("/<int:run_id>/confirm")
@programme_required
def confirm_run(run_id: int):
    run = import_run(run_id) or abort(404)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        flash("This form has expired. Please try again.", "error")
        return redirect(url_for("imports.show", run_id=run_id), code=303)
    try:
        confirm(run, form.sha256.data or "", actor=current_user, now=clock.now())
    except UserError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("imports.show", run_id=run_id), code=303)


@bp.post("/<int:run_id>/discard")
@programme_required
def discard_run(run_id: int):
    run = import_run(run_id) or abort(404)
    if DiscardImportForm().validate_on_submit():
        try:
            discard(run, actor=current_user, now=clock.now())
            db.session.commit()
            flash(f"{run.filename} was not imported; nothing changed.", "info")
        except UserError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return redirect(url_for("imports.index"), code=303)


@bp.get("/<int:run_id>/file")
@programme_required
def download(run_id: int):
    found = import_file(run_id)
    if found is None:
        abort(404)
    filename, data = found
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", filename) or "import.csv"
    return Response(
        data,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


@bp.get("/history")
@programme_required
def history():
    page = _page_arg()
    runs, total = import_history(page)
    pages = max(1, ceil(total / 25))
    return render_template(
        "imports/history.html",
        runs=runs,
        total=total,
        page=min(page, pages),
        pages=pages,
        kind_words=KIND_WORDS,
    )


@bp.get("/templates/<kind>.csv")
@programme_required
def template(kind: str):
    if kind not in TEMPLATE_ROWS:
        abort(404)
    header, rows = TEMPLATE_ROWS[kind]
    return csv_response(header, rows, f"{kind}-template.csv")
