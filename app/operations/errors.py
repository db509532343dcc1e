"""Errors a user can cause: their message is meant for the user and shown at the edge."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; `str(error)` says what is wrong, and `field` (when given)
    names the form field it is about, so a page shows it there without reading the text."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
