"""The programme team's recovery dashboard: every number links to exactly those cases."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request, url_for

from app import clock
from app.queries.case_filters import CaseFilters
from app.queries.dashboard import dashboard
from app.queries.headlines import headlines, open_by_flag_per_quarter
from app.rules.vocabulary import FLAG_WORDS, STATUS_WORDS
from app.settings import stale_after_days
from app.web.access import programme_required
from app.web.charts import SVG_CSP, render_svg
from app.web.dashboard import bp


def case_list_url(filters: CaseFilters) -> str:
    """The programme case list filtered to exactly the cases `filters` selects."""
    args: dict[str, Any] = filters.to_args()
    return url_for("programme.cases", **args)


@bp.context_processor
def _helpers() -> dict:
    return {"case_list_url": case_list_url}


REPS_SHOWN = 20  # the busiest reps; the rest behind "show all" (500 reps at ten times)


@bp.get("/dashboard")
@programme_required
def index():
    now = clock.now()
    board = dashboard(now)
    all_reps = request.args.get("reps") == "all"
    return render_template(
        "dashboard/index.html",
        board=board,
        headlines=headlines(now),
        quarters=open_by_flag_per_quarter(now),
        reps=board.reps if all_reps else board.reps[:REPS_SHOWN],
        all_reps=all_reps,
        status_words=STATUS_WORDS,
        flag_words=FLAG_WORDS,
        stale_after_days=stale_after_days(),
    )


@bp.get("/dashboard/chart/open-by-flag.svg")
@programme_required
def open_by_flag_svg():
    chart = open_by_flag_per_quarter(clock.now())
    response = Response(render_svg(chart), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response
