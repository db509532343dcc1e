"""Blueprint `errors` (to be written)."""

from flask import Blueprint

bp = Blueprint("errors", __name__)
