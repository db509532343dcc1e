"""Blueprint `auth`: sign-in, sign-out, the account page and set-password links."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.web.auth import two_factor, views  # noqa: E402,F401  (registers the routes)
