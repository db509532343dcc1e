"""Opt-out: GET shows a confirmation with a button (a link fetched by a mail scanner changes
nothing); POST opts the contact out and shows the result.

The one-click URL of the List-Unsubscribe header (RFC 8058) takes a POST from the mail
client itself, with no session and no CSRF token: the signed token in the URL is the proof.
It is the only view exempt from CSRF; a GET there shows the same confirmation."""

from __future__ import annotations

import logging

from flask import redirect, render_template, request, url_for

from app import clock
from app.extensions import csrf, db
from app.operations.errors import UserError
from app.operations.optout import contact_for_token, opt_out
from app.web.access import public
from app.web.optout import bp

log = logging.getLogger(__name__)
TEXT = {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/optout/<token>", methods=["GET", "POST"])
@public
def page(token: str):
    try:
        if request.method == "POST":
            opt_out(token, clock.now())
            db.session.commit()
            return redirect(url_for("optout.page", token=token), code=303)
        contact = contact_for_token(token)
    except UserError as exc:
        db.session.rollback()
        return render_template("optout/invalid.html", message=str(exc)), 400
    return render_template("optout/page.html", contact=contact, area=contact.area, token=token)


@bp.route("/optout/<token>/one-click", methods=["GET", "POST"])
@csrf.exempt
@public
def one_click(token: str):
    if request.method == "GET":
        return page(token)
    try:
        contact = opt_out(token, clock.now())  # idempotent: a second POST changes nothing
        db.session.commit()
    except UserError:
        db.session.rollback()
        return "This unsubscribe link is not valid.\n", 400, TEXT
    log.info("One-click unsubscribe: contact %s opted out", contact.id)
    return "Unsubscribed.\n", 200, TEXT
