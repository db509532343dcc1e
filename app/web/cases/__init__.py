"""Blueprint `cases`: a rep's casework — My cases, the case page, plan, actions, membership."""

from flask import Blueprint

bp = Blueprint("cases", __name__)

from app.web.cases import answers, sheet, views  # noqa: E402,F401  (routes register on import)
