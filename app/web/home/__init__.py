"""The home page sends each user to their own start: reps to their cases, the programme team
to the dashboard, visitors to sign-in."""

from flask import Blueprint

bp = Blueprint("home", __name__)

from app.web.home import views  # noqa: E402,F401  (routes register on import)
