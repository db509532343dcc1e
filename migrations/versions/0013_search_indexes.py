"""Index the header search: a term found without reading every row.

PostgreSQL: trigram GIN indexes (the pg_trgm extension, where the server has it) on the
lower-cased searched columns for `lower(col) LIKE '%term%'`, built without a pending list
(`fastupdate = off`: with autovacuum rare or off, every search would otherwise read the whole
list of rows added since); notes by a partial index on note events only. The short terms'
`lower(col) LIKE 'te%'` by a btree on `lower(col) text_pattern_ops` (the trigram index can
serve it too, but the planner rightly judges two letters' trigrams too common and reads the
table instead).

SQLite: an FTS5 table with the trigram tokenizer for each searched table, holding only the
searched columns (external content: the rows stay in their table) and kept in step by
triggers, and a NOCASE index per searched column for the short terms' prefix match. SQLite's
batch migrations rebuild a table by copying it, which drops its triggers: a later migration
that batch-alters one of these tables must create them again
(tests/queries/test_search_index.py fails if it does not).

Revision ID: 0013_search_indexes
Revises: 0012_outbox_list_indexes
"""

import logging

from alembic import op
from sqlalchemy import text

revision = "0013_search_indexes"
down_revision = "0012_outbox_list_indexes"
branch_labels = None
depends_on = None

# As app.models.search_index.SEARCHED was when this migration was written.
SEARCHED = {
    "areas": ("code", "name"),
    "users": ("name", "email"),
    "contacts": ("name", "email"),
    "persons": ("name",),
}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in SEARCHED.items():
            for column in columns:
                op.execute(f"DROP INDEX IF EXISTS ix_search_{table}_{column}")
                op.execute(f"DROP INDEX IF EXISTS ix_search_{table}_{column}_start")
        op.execute("DROP INDEX IF EXISTS ix_search_case_events_note")
        return
    for table, columns in SEARCHED.items():
        for suffix in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS search_{table}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS search_{table}")
        for column in columns:
            op.execute(f"DROP INDEX IF EXISTS ix_search_{table}_{column}")
    for suffix in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS search_notes_{suffix}")
    op.execute("DROP TABLE IF EXISTS search_notes")


def _upgrade_postgresql():
    bind = op.get_bind()
    available = bind.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).scalar()
    if not available:
        # Search still works without them, reading the columns (docs/deployment.md).
        logging.getLogger("alembic.runtime.migration").warning(
            "pg_trgm is not available on this server: the search reads its columns unindexed."
        )
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in SEARCHED.items():
        for column in columns:
            op.execute(
                f"CREATE INDEX ix_search_{table}_{column} ON {table} "
                f"USING gin (lower({column}) gin_trgm_ops) WITH (fastupdate = off)"
            )
            op.execute(
                f"CREATE INDEX ix_search_{table}_{column}_start ON {table} "
                f"(lower({column}) text_pattern_ops)"
            )
    op.execute(
        "CREATE INDEX ix_search_case_events_note ON case_events "
        "USING gin (lower(message) gin_trgm_ops) WITH (fastupdate = off) WHERE kind = 'note'"
    )


def _upgrade_sqlite():
    for table, columns in SEARCHED.items():
        fts = f"search_{table}"
        names = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', "
            "content_rowid='id', tokenize='trigram')"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        op.execute(
            f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END"
        )
        for column in columns:
            op.execute(f"CREATE INDEX ix_search_{table}_{column} ON {table} ({column} COLLATE NOCASE)")
    # Notes: the message of note events only (most events are the system's own).
    op.execute(
        "CREATE VIRTUAL TABLE search_notes USING fts5(message, content='case_events', "
        "content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        "INSERT INTO search_notes(rowid, message) "
        "SELECT id, message FROM case_events WHERE kind = 'note'"
    )
    op.execute(
        "CREATE TRIGGER search_notes_insert AFTER INSERT ON case_events "
        "WHEN new.kind = 'note' BEGIN "
        "INSERT INTO search_notes(rowid, message) VALUES (new.id, new.message); END"
    )
    op.execute(
        "CREATE TRIGGER search_notes_delete AFTER DELETE ON case_events "
        "WHEN old.kind = 'note' BEGIN "
        "INSERT INTO search_notes(search_notes, rowid, message) "
        "VALUES ('delete', old.id, old.message); END"
    )
    op.execute(
        "CREATE TRIGGER search_notes_update AFTER UPDATE OF kind, message ON case_events BEGIN "
        "INSERT INTO search_notes(search_notes, rowid, message) "
        "SELECT 'delete', old.id, old.message WHERE old.kind = 'note'; "
        "INSERT INTO search_notes(rowid, message) "
        "SELECT new.id, new.message WHERE new.kind = 'note'; END"
    )
