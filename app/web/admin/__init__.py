"""Blueprint `admin`: user accounts (admins only)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.web.admin import views  # noqa: E402,F401  (registers the routes)
