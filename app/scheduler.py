"""APScheduler wiring (to be written): the jobs themselves are operations."""

from __future__ import annotations

from flask import Flask


def init_scheduler(app: Flask) -> None:
    """Start the embedded scheduler when SCHEDULER_ENABLED is set (make run)."""
