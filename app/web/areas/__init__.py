"""Blueprint `areas` (to be written)."""

from flask import Blueprint

bp = Blueprint("areas", __name__)
