"""The programme team's recovery dashboard: every number links to exactly those cases."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from app.web.dashboard import views  # noqa: E402,F401  (routes register on import)
