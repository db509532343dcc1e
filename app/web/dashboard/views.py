"""The programme team's recovery dashboard: every number links to exactly those cases."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Response, render_template, request, url_for

from app import clock
from app.operations.outbox import mail_configured
from app.queries.case_filters import CaseFilters
from app.queries.dashboard import dashboard
from app.queries.freshness import cached
from app.queries.headlines import headlines, open_by_flag_per_quarter
from app.rules.calendar import london_date
from app.rules.vocabulary import FLAG_WORDS, STATUS_WORDS
from app.settings import stale_after_days
from app.web.access import programme_required
from app.web.charts import SVG_CSP, render_svg
from app.web.dashboard import bp
from app.web.health.views import current_health
from app.web.page_cache import cached_page


def case_list_url(filters: CaseFilters) -> str:
    """The programme case list filtered to exactly the cases `filters` selects."""
    return _case_list_url(request.script_root, filters)


@lru_cache(maxsize=2048)
def _case_list_url(script_root: str, filters: CaseFilters) -> str:
    # The dashboard links ~100 figures; a URL depends only on the filters and where the app
    # is mounted, so each is built once per worker instead of once per figure per request.
    args: dict[str, Any] = filters.to_args()
    return url_for("programme.cases", **args)


@bp.context_processor
def _helpers() -> dict:
    return {"case_list_url": case_list_url}


REPS_SHOWN = 20  # the busiest reps; the rest behind "show all" (500 reps at ten times)


@bp.get("/dashboard")
@programme_required
@cached_page
def index():
    now = clock.now()
    board, figures, quarters = cached(
        "dashboard",
        london_date(now),
        lambda: (dashboard(now), headlines(now), open_by_flag_per_quarter(now)),
    )
    all_reps = request.args.get("reps") == "all"
    return render_template(
        "dashboard/index.html",
        board=board,
        headlines=figures,
        quarters=quarters,
        reps=board.reps if all_reps else board.reps[:REPS_SHOWN],
        all_reps=all_reps,
        status_words=STATUS_WORDS,
        flag_words=FLAG_WORDS,
        stale_after_days=stale_after_days(),
        health=current_health(),
        mail_configured=mail_configured(),
    )


@bp.get("/dashboard/chart/open-by-flag.svg")
@programme_required
def open_by_flag_svg():
    chart = open_by_flag_per_quarter(clock.now())
    response = Response(render_svg(chart), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response
