"""Blueprint `areas`: the areas list, an area's page and history, changing an area's rep."""

from flask import Blueprint

bp = Blueprint("areas", __name__)

from app.web.areas import views  # noqa: E402,F401  (routes register on import)
