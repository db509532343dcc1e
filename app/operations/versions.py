"""The optimistic version check shared by every case and plan change: a form carries the
version it was shown with; if the row has moved on since, nothing is saved."""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.operations.errors import UserError

CONFLICT_MESSAGE = (
    "Someone else changed this case while you were editing; your change was not saved"
    " — review and try again"
)


class ConflictError(UserError):
    """The case or plan changed since the form was shown."""

    def __init__(self, message: str = CONFLICT_MESSAGE) -> None:
        super().__init__(message)


def check_version(current: int | None, expected: int | None) -> None:
    """Refuse the change if the form's `expected` version is not the row's `current` one."""
    if expected is not None and (current or 0) != int(expected):
        raise ConflictError()


def flush_or_conflict() -> None:
    """Flush now so a concurrent change (version_id_col) surfaces as a ConflictError."""
    try:
        db.session.flush()
    except StaleDataError:
        raise ConflictError() from None
