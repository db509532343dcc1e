"""Blueprint `optout`: the public page behind the opt-out link in every partnership email."""

from flask import Blueprint

bp = Blueprint("optout", __name__)

from app.web.optout import views  # noqa: E402,F401  (registers the routes)
