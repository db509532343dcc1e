"""Errors a user can cause: their message is meant for the user and shown at the edge."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; `str(error)` says what is wrong."""
