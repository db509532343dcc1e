"""Blueprint `imports`: the programme team's web imports (upload, preview, confirm, history)."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")

from app.web.imports import views  # noqa: E402,F401  (routes register on import)
