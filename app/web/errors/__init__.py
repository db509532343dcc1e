"""Blueprint `errors`: security headers on every response, and friendly error pages."""

from flask import Blueprint

bp = Blueprint("errors", __name__)

from app.web.errors import busy, views  # noqa: E402,F401  (routes register on import)
