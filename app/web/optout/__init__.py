"""Blueprint `optout` (to be written)."""

from flask import Blueprint

bp = Blueprint("optout", __name__)
