"""Blueprint `outbox` (to be written)."""

from flask import Blueprint

bp = Blueprint("outbox", __name__)
