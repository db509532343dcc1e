"""Blueprint `cases` (to be written)."""

from flask import Blueprint

bp = Blueprint("cases", __name__)
