"""Blueprint `outbox`: the programme team reads the automatic mail and sends failed mail again."""

from flask import Blueprint

bp = Blueprint("outbox", __name__)

from app.web.outbox import views  # noqa: E402,F401  (routes register on import)
