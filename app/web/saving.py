"""Running an operation from a small form that answers with a flash: commit what it changed,
or roll it back and flash why it was refused (the casework pages, which show their forms
again with the errors, use `_save` in web/cases/views.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash

from app.extensions import db
from app.operations.errors import UserError

REFUSED: Any = object()  # what commit_or_flash returns when the operation refused


def commit_or_flash(change: Callable[[], Any]) -> Any:
    """`change()`'s result, committed; REFUSED (rolled back, the reason flashed) on UserError."""
    try:
        result = change()
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return REFUSED
    return result
