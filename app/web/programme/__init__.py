"""Blueprint `programme`: the programme team's case list, unassigned queue, assign and close."""

from flask import Blueprint

bp = Blueprint("programme", __name__)

from app.web.programme import views  # noqa: E402,F401  (routes register on import)
