"""Programme insights (docs/insights.md): the page, its SVG charts and its CSV / XLSX exports."""

from flask import Blueprint

bp = Blueprint("insights", __name__)

from app.web.insights import views  # noqa: E402,F401  (routes register on import)
