"""The home page sends each user to their own start: reps to their cases, the programme team
to the dashboard, visitors to sign-in."""

from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user

from app.web.access import public
from app.web.home import bp


@bp.get("/")
@public
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("dashboard.index" if current_user.is_programme else "cases.mine"))
