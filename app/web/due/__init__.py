"""Blueprint `due`: the actions due in the next two weeks, and every overdue one."""

from flask import Blueprint

bp = Blueprint("due", __name__)

from app.web.due import views  # noqa: E402,F401  (routes register on import)
