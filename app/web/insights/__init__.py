"""Blueprint `insights` (to be written)."""

from flask import Blueprint

bp = Blueprint("insights", __name__)
