"""Outbox pages: the list (filter by status), one message, and sending a failed one again."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app import clock
from app.extensions import db
from app.models import OutboxMessage
from app.operations.outbox import mail_configured, message_id_for, retry
from app.operations.text import parse_count
from app.queries.outbox import outbox_page
from app.rules.vocabulary import OUTBOX_STATUS_WORDS, OUTBOX_STATUSES, OutboxStatus
from app.web.access import programme_required
from app.web.health.views import current_health
from app.web.outbox import bp
from app.web.saving import REFUSED, commit_or_flash

STATUS_BADGES = {
    OutboxStatus.QUEUED: "text-bg-secondary",
    OutboxStatus.SENDING: "text-bg-info",
    OutboxStatus.SENT: "text-bg-success",
    OutboxStatus.FAILED: "text-bg-danger",
    OutboxStatus.CANCELLED: "text-bg-light border",
}
# The HTML version is shown on its own, as an inert document: no scripts, no requests out.
HTML_PREVIEW_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'none'; frame-ancestors 'self'; base-uri 'none'"
)


@bp.context_processor
def _helpers() -> dict:
    def kind_words(kind: str) -> str:
        return kind.replace("_", " ").capitalize()

    return {
        "kind_words": kind_words,
        "status_words": OUTBOX_STATUS_WORDS,
        "status_badges": STATUS_BADGES,
    }


def _message_or_404(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message


@bp.get("/outbox")
@programme_required
def index():
    asked = request.args.get("status", "")
    status = asked if asked in OUTBOX_STATUSES else None
    page = parse_count(request.args.get("page", "1")) or 1
    listing = outbox_page(status, page)
    return render_template(
        "outbox/index.html",
        listing=listing,
        statuses=OUTBOX_STATUSES,
        mail_configured=mail_configured(),
        health=current_health(),
    )


@bp.get("/outbox/<int:message_id>")
@programme_required
def show(message_id: int):
    message = _message_or_404(message_id)
    return render_template(
        "outbox/show.html",
        message=message,
        message_id=message_id_for(message.key),
        sender=current_app.config.get("MAIL_DEFAULT_SENDER"),
        mail_configured=mail_configured(),
    )


@bp.get("/outbox/<int:message_id>/html")
@programme_required
def html_version(message_id: int):
    message = _message_or_404(message_id)
    response = make_response(message.body_html or "")
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = HTML_PREVIEW_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/outbox/<int:message_id>/retry")
@programme_required
def retry_message(message_id: int):
    message = _message_or_404(message_id)
    if commit_or_flash(lambda: retry(message.id, clock.now(), current_user.id)) is not REFUSED:
        flash(f"The email to {message.recipient} is queued to be sent again.", "success")
    return redirect(url_for("outbox.show", message_id=message_id))
