"""Shared fixtures: a real database (SQLite file, or PostgreSQL from TEST_DATABASE_URL),
migrated once per run with Alembic and emptied after every test."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, insert, make_url, select, text

from app import create_app
from app.extensions import db
from config import TestConfig

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(available: bool, what: str) -> None:
    """Skip a test whose service is missing on a developer's machine; in CI, fail it."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} is not available on this machine")


def worker_database_url(url: str, worker: str | None) -> str:
    """The database a pytest-xdist worker uses: `<db>_gw0`, `<db>_gw1`, ... created (as the same
    user, from the base database) when missing, so parallel workers never share tables."""
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        # tmp_path_factory gives each xdist worker its own folder, so its own SQLite file.
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    try:
        url = worker_database_url(url, os.environ.get("PYTEST_XDIST_WORKER"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        require_service(False, f"PostgreSQL at {url} ({exc.__class__.__name__})")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        require_service(False, f"PostgreSQL at {url} ({exc.__class__.__name__})")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    """Run the real migrations once; every test then starts from empty tables."""
    from flask_migrate import upgrade

    from app import init_migrations

    app = create_app(_config_for(database_url))
    init_migrations(app)
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    return database_url


def _config_for(database_url: str, **overrides) -> type:
    attrs = {"SQLALCHEMY_DATABASE_URI": database_url, **overrides}
    return type("PerTestConfig", (TestConfig,), attrs)


def empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    # DELETE, not TRUNCATE: on PostgreSQL a TRUNCATE of a dozen tiny tables costs ~150 ms a
    # test, a DELETE about 1 ms. Ids keep counting up, so tests never assume an id.
    for table in tables:
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change configuration values."""
    return {}


@pytest.fixture
def app(migrated: str, app_config: dict):
    app = create_app(_config_for(migrated, **app_config))
    with app.app_context():
        yield app
        db.session.rollback()
        empty_all_tables()
        db.session.remove()
        db.engine.dispose()


class FreshUserClient(FlaskClient):
    """A test client whose every request loads its own signed-in user.

    The `app` fixture keeps one app context open for the whole test, so Flask-Login's cached
    user in `g` would otherwise leak from one request (or client) to the next."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshUserClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Each way the demo was loaded, per database and London date: (what the load returned, rows
# per table).
_DEMO_RUNS: dict[tuple, tuple[object, list[tuple[object, list[dict]]]]] = {}


def demo_once(how: str, load):
    """Load the demo into the empty database with `load()` (which commits) and return its result.

    The demo is built from a fixed seed and today's date, so each load writes the same rows:
    the first load in a worker process runs for real, and later loads on the same database and
    date (the same `how`) get the rows it wrote copied back, ids included, about 15 s less each."""
    from app import clock
    from app.rules.calendar import london_date

    key = (how, db.engine.url.render_as_string(), london_date(clock.now()))
    if key in _DEMO_RUNS:
        result, tables = _DEMO_RUNS[key]
        for table, rows in tables:
            if rows:
                db.session.execute(insert(table), rows)  # type: ignore[arg-type]
        db.session.commit()
        return result
    result = load()
    tables = [
        (table, [dict(row) for row in db.session.execute(select(table)).mappings()])
        for table in db.metadata.sorted_tables
    ]
    db.session.rollback()  # only a read: end it
    _DEMO_RUNS[key] = (result, tables)
    return result


@pytest.fixture
def demo_load(app, runner) -> str:
    """`flask demo load` on the empty database (see `demo_once`); what it printed."""

    def load() -> str:
        result = runner.invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        return result.output

    return demo_once("cli", load)


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def freeze_clock(app):
    """Freeze the app's one clock (`app.clock.now`): `freeze_clock(moment)`; views, commands
    and jobs then all see `moment`. The only way tests stop time."""
    from app.clock import CONFIG_KEY

    def freeze(moment: datetime) -> datetime:
        app.config[CONFIG_KEY] = moment
        return moment

    yield freeze
    app.config.pop(CONFIG_KEY, None)
