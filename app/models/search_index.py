"""The header search's indexes, which live outside the models' metadata.

Migration 0013 builds them: on PostgreSQL trigram GIN indexes (pg_trgm) on the lower-cased
searched columns; on SQLite an FTS5 trigram table per searched table (`search_<table>`, its
rows kept in step by triggers) and a NOCASE index per searched column for short terms. Their
names all start with `search_` or `ix_search_`, so Alembic's comparison of the models with the
database leaves them out (`include_name`)."""

from __future__ import annotations

PREFIXES = ("search_", "ix_search_")

# Each searched table, its searched columns, and the FTS5 table that indexes them on SQLite.
SEARCHED = {
    "areas": ("code", "name"),
    "users": ("name", "email"),
    "contacts": ("name", "email"),
    "persons": ("name",),
}
NOTES_TABLE = "search_notes"  # case_events.message of note events only


def fts_table(table: str) -> str:
    return f"search_{table}"


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's filter: the search's own tables and indexes are not part of the models."""
    return not (type_ in ("table", "index") and name and name.startswith(PREFIXES))
