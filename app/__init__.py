"""Partnership follow-up: the application factory."""

from __future__ import annotations

import logging
import os
import sys

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.cli.lazy import LazyGroup
from app.extensions import csrf, db, login_manager, mail
from app.secret_key import init_secret_key
from app.web.request_checks import init_request_checks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DB_HELP = "Perform database migrations."


def create_app(config: object | str | None = None) -> Flask:
    """Build the app: extensions, blueprints, CLI commands and error pages."""
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder="static",
        instance_path=os.path.join(ROOT, "instance"),
    )
    app.config.from_object(config or os.environ.get("APP_CONFIG", "config.Config"))
    app.instance_path = app.config.get("INSTANCE_PATH") or app.instance_path
    os.makedirs(app.instance_path, exist_ok=True)
    _init_logging(app)
    init_secret_key(app)
    _init_proxies(app)

    _init_sqlite_timeout(app)
    db.init_app(app)
    _init_connections(app)
    app.cli.add_command(LazyGroup("db", lambda: init_migrations(app), DB_HELP))
    login_manager.init_app(app)
    # Before CSRFProtect, so a cut-off or hostile body is refused before anything reads it.
    init_request_checks(app)
    csrf.init_app(app)
    mail.init_app(app)
    _init_bootstrap(app)

    from app import models  # noqa: F401  (the whole schema, for Alembic)
    from app.models.types import add_postgresql_where

    if _on_postgresql(app):
        add_postgresql_where()
    from app.cli import register_cli
    from app.scheduler import init_scheduler
    from app.web import register_web

    register_web(app)
    register_cli(app)
    init_scheduler(app)
    return app


def init_migrations(app: Flask):
    """Flask-Migrate on `app` (app.extensions["migrate"] and the real `flask db` group);
    returns that group. Alembic takes about 100 ms to import, so only `flask db …` and the
    tests' schema set-up load it."""
    from flask_migrate import Migrate
    from flask_migrate.cli import db as db_group

    from app.models.types import add_postgresql_where

    add_postgresql_where()  # the whole schema, whichever database this app is on
    if "migrate" not in app.extensions:
        Migrate(app, db, directory=os.path.join(ROOT, "migrations"))
    return db_group


def _init_logging(app: Flask) -> None:
    """One stderr handler on the "app" logger at LOG_LEVEL, added once per process (so lines
    reach the console under flask run or gunicorn); under test, pytest's capture is enough."""
    logger = logging.getLogger("app")
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    if app.testing or any(getattr(h, "_app_log", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._app_log = True  # type: ignore[attr-defined]
    logger.addHandler(handler)


def _init_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES proxies, read the client's address and scheme from their headers."""
    count = int(app.config.get("TRUSTED_PROXIES") or 0)
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxied = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
        app.wsgi_app = proxied  # type: ignore[method-assign]  # Flask's documented way


def _on_postgresql(app: Flask) -> bool:
    return str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql")


def _init_sqlite_timeout(app: Flask) -> None:
    """SQLite: how long a write waits for another connection's write lock before giving up
    (SQLITE_BUSY_TIMEOUT_SECONDS; the web then shows its "busy, try again" page)."""
    if not str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("timeout", float(app.config.get("SQLITE_BUSY_TIMEOUT_SECONDS", 15)))
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _init_connections(app: Flask) -> None:
    from app import connections

    with app.app_context():
        for engine in db.engines.values():
            connections.watch(engine, float(app.config.get("POOL_PING_IDLE_SECONDS", 2)))


def _init_bootstrap(app: Flask) -> None:
    from flask_bootstrap import Bootstrap5

    Bootstrap5(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys, allow readers during a write. (How long a write waits for
    the lock is the connection's timeout: see _init_sqlite_timeout.)"""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL syncs at checkpoints instead of every commit: still safe if the
        # process dies (the outbox's per-message commits rely on that), much faster.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
