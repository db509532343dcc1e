"""The 'Due soon' page: a rep's own actions due soon; all of them for the programme team."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from app import clock
from app.queries.due_soon import DUE_SOON_DAYS, due_soon
from app.rules.vocabulary import OWNER_WORDS
from app.web.access import login_required
from app.web.due import bp
from app.web.page_cache import cached_page


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 10**6 else 1


@bp.get("/due-soon")
@login_required
@cached_page
def index():
    result = due_soon(current_user, clock.now(), _page_arg())
    return render_template(
        "due/index.html",
        result=result,
        days=DUE_SOON_DAYS,
        owners=OWNER_WORDS,
    )
