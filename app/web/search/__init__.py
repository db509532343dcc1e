"""Blueprint `search`: the results page behind the header's search box."""

from flask import Blueprint

bp = Blueprint("search", __name__)

from app.web.search import views  # noqa: E402,F401  (routes register on import)
