"""Opt-out: GET shows a confirmation with a button (a link fetched by a mail scanner changes
nothing); POST opts the contact out and shows the result."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app import clock
from app.extensions import db
from app.operations.errors import UserError
from app.operations.optout import contact_for_token, opt_out
from app.web.access import public
from app.web.optout import bp


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
