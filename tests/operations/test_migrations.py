"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_partial_unique_indexes_exist_in_the_database(app):
    indexes = {ix["name"]: ix for ix in inspect(db.engine).get_indexes("cases")}
    assert indexes["uq_cases_one_open_per_area"]["unique"]
