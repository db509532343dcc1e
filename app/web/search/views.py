"""The search results page: hits grouped by kind, within what the signed-in user may see."""

from __future__ import annotations

import logging

from flask import render_template, request
from flask_login import current_user

from app.operations.text import without_controls
from app.queries.search import GROUP_LIMIT, MAX_QUERY, BadQuery, search
from app.web.access import login_required
from app.web.request_checks import checks_query_string
from app.web.search import bp

logger = logging.getLogger(__name__)


@bp.get("/search")
@login_required
@checks_query_string
def index():
    raw = request.args.get("q", "")
    try:
        result = search(raw, current_user)
    except BadQuery as problem:
        echo = without_controls(raw)[:MAX_QUERY]
        page = render_template("search/index.html", error=str(problem), query=echo, result=None)
        return page, 400
    return render_template(
        "search/index.html", error=None, query=result.query, result=result, limit=GROUP_LIMIT
    )
