"""Small helpers over SQLAlchemy results shared by the operations."""

from __future__ import annotations

from typing import Any


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE matched: `Session.execute` is typed as returning a plain Result,
    but for these statements it is a CursorResult, which has the count."""
    return int(result.rowcount)
