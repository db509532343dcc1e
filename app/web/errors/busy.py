"""The "busy, try again" page: SQLite's write lock was not free in time, or the database
connection was found dead mid-request (a PostgreSQL restart: app/connections.py).

Nothing was saved; the page shows what was posted and sends it again with one button."""

from __future__ import annotations

import logging

from flask import current_app, render_template, request, url_for
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.web.errors import bp
from app.web.errors.views import _page_above, error_page

log = logging.getLogger(__name__)

BUSY_TITLE = "The system is busy — try again"
BUSY_RETRY_AFTER = "5"  # seconds, for the Retry-After header
# Posted fields carried by the "Try again" form but not shown back as what the user typed.
UNSHOWN_FIELDS = frozenset({"csrf_token", "version", "next", "step"})


def is_lock_timeout(error: OperationalError) -> bool:
    """SQLite's "database is locked": another connection held the write lock for longer than
    SQLITE_BUSY_TIMEOUT_SECONDS (a large import, a sweep)."""
    original = getattr(error, "orig", None)
    return type(original).__module__.startswith("sqlite3") and "locked" in str(original).lower()


def _field_label(name: str) -> str:
    return name.replace("-", " ").replace("_", " ").strip().capitalize()


@bp.app_errorhandler(OperationalError)
def database_error(error: OperationalError):
    """A write that could not get the lock in time, or a connection that died under the
    request (SQLAlchemy has already dropped the pool, so a retry gets a fresh one): nothing was
    saved, and the page keeps what was posted, with a button that sends it again. Any other
    database error is a 500."""
    db.session.rollback()
    if is_lock_timeout(error):
        log.warning(
            "database busy: %s %s gave up waiting for the write lock (%s s)",
            request.method,
            request.path,
            current_app.config.get("SQLITE_BUSY_TIMEOUT_SECONDS"),
        )
    elif error.connection_invalidated:
        log.warning("database connection lost under %s %s", request.method, request.path)
    else:
        current_app.logger.error("Database error on %s", request.path, exc_info=error)
        return error_page(500)
    posted = list(request.form.items(multi=True)) if request.method == "POST" else []
    carried = [(name, value) for name, value in posted if name != "csrf_token"]
    shown = [
        (_field_label(name), value)
        for name, value in carried
        if name not in UNSHOWN_FIELDS and value.strip()
    ]
    query = request.query_string.decode("latin-1")
    html = render_template(
        "errors/busy.html",
        title=BUSY_TITLE,
        method=request.method,
        action=request.path + (f"?{query}" if query else ""),
        carried=carried,
        shown=shown,
        had_file=bool(request.files),
        back=_page_above(request.path) or url_for("home.index"),
    )
    return html, 503, {"Retry-After": BUSY_RETRY_AFTER}
