"""Blueprint `health`: GET /healthz for a monitor."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from app.web.health import views  # noqa: E402,F401  (routes register on import)
