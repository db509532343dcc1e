"""The home page sends each user to their own start: reps to their cases, the programme team
to the dashboard, visitors to sign-in."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from app.web.access import public

bp = Blueprint("home", __name__)


@bp.get("/")
@public
def index():
    from flask import current_app

    if not current_user.is_authenticated:
        if "auth.login" in current_app.view_functions:
            return redirect(url_for("auth.login"))
        return render_template("home.html")
    target = "dashboard.index" if current_user.is_programme else "cases.mine"
    if target in current_app.view_functions:
        return redirect(url_for(target))
    return render_template("home.html")
