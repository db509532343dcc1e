"""Small helpers over SQLAlchemy results shared by the operations."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE matched: `Session.execute` is typed as returning a plain Result,
    but for these statements it is a CursorResult, which has the count."""
    return int(result.rowcount)


def table_of(model: Any) -> Table:
    """A model's Table, for Core statements (bulk inserts, guarded updates): the declarative
    `__table__` is typed as a plain FromClause."""
    return cast(Table, model.__table__)
