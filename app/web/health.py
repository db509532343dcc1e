"""GET /healthz: the mail machinery's health as JSON, for a monitor (no sign-in, no personal
data: counts and times only). HTTP 503 when the database cannot be reached."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from app import clock
from app.queries.health import read_health, thresholds_from_config
from app.rules.vocabulary import HealthStatus
from app.web.access import public

bp = Blueprint("health", __name__)


def current_health():
    """The health now, with the thresholds from the config (also for the health panels)."""
    return read_health(clock.now(), thresholds_from_config(current_app.config))


@bp.get("/healthz")
@public
def healthz():
    health = current_health()
    response = jsonify(health.public())
    response.status_code = 503 if health.status == HealthStatus.DOWN else 200
    response.headers["Cache-Control"] = "no-store"
    return response
