"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.extensions import db
from app.models.search_index import include_name


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_partial_unique_indexes_exist_in_the_database(app):
    indexes = {ix["name"]: ix for ix in inspect(db.engine).get_indexes("cases")}
    assert indexes["uq_cases_one_open_per_area"]["unique"]


def test_partial_unique_indexes_have_their_condition_for_postgresql(app):
    """The condition PostgreSQL's copy of a partial index needs is on the models (attached
    when the app is on PostgreSQL or Alembic is loaded, so SQLite runs never import the
    PostgreSQL dialect), and the DDL for PostgreSQL carries it."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    from app.models import Case, Snapshot

    ddl = {
        ix.name: str(CreateIndex(ix).compile(dialect=postgresql.dialect()))
        for model in (Case, Snapshot)
        for ix in model.__table__.indexes
        if ix.name.startswith("uq_")
    }
    assert ddl["uq_cases_one_open_per_area"].endswith(
        "WHERE status IN ('new', 'contacted', 'plan_agreed', 'monitoring')"
    )
    assert ddl["uq_snapshots_update_day"].endswith("WHERE kind = 'update'")
