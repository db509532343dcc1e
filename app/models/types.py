"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, text
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every database (SQLite keeps no zone, so we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Partial unique indexes and their condition (SQL): PostgreSQL's copy of the condition is
# attached by add_postgresql_where().
_PARTIAL: list[tuple[Index, str]] = []


def partial_unique_index(name: str, *columns: str, where: str) -> Index:
    """A unique index over the rows matching `where` (SQL), on SQLite and on PostgreSQL.

    The `postgresql_where` option is attached later (add_postgresql_where: by create_app on a
    PostgreSQL database, and with Alembic): naming it here would import SQLAlchemy's PostgreSQL
    dialect (~50-80 ms) at every start of the app, on SQLite too."""
    index = Index(name, *columns, unique=True, sqlite_where=text(where))
    _PARTIAL.append((index, where))
    return index


def add_postgresql_where() -> None:
    """Give every partial index its PostgreSQL condition (once; a no-op afterwards)."""
    for index, where in _PARTIAL:
        options = index.dialect_options["postgresql"]
        if options["where"] is None:
            options["where"] = text(where)
