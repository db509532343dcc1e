"""GET /healthz: the mail machinery's health as JSON, for a monitor (no sign-in, no personal
data: counts and times only). HTTP 503 when the database cannot be reached."""

from __future__ import annotations

from flask import jsonify

from app import clock
from app.queries.health import Health, read_health
from app.rules.vocabulary import HealthStatus
from app.settings import health_thresholds
from app.web.access import public
from app.web.health import bp


def current_health() -> Health:
    """The health now, with the configured thresholds (also for the health panels)."""
    return read_health(clock.now(), health_thresholds())


@bp.get("/healthz")
@public
def healthz():
    health = current_health()
    response = jsonify(health.public())
    response.status_code = 503 if health.status == HealthStatus.DOWN else 200
    response.headers["Cache-Control"] = "no-store"
    return response
