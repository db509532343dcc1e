"""How requests use pooled database connections: two round trips saved on every request to
PostgreSQL, where a cached page otherwise spends most of its time waiting on the server.

1. **Ping only idle connections.** SQLAlchemy's `pool_pre_ping` pings the server at every
   checkout. Here a connection is pinged (the dialect's own ping) only when it has been idle
   for more than POOL_PING_IDLE_SECONDS; one in steady use is not. A dead connection found by
   the ping is replaced before the request uses it (the pool retries the checkout), as with
   pre-ping. What this gives up: a server restart within those seconds of a connection's last
   use is found by the request itself. SQLAlchemy then drops the pool, the request gets the
   "busy, try again" page with what was posted (app/web/errors/busy.py), and the retry gets a
   fresh connection. POOL_PING_IDLE_SECONDS = 0 pings at every checkout.

2. **The signed-in check outside a transaction.** Every signed-in request starts with one
   statement (the user, their live session, and on a GET the data version). On PostgreSQL it
   runs in autocommit mode (`statement_outside_transaction`), and the connection leaves
   autocommit just before the request's next statement, so everything after it runs in a real
   transaction (BEGIN … COMMIT or ROLLBACK) exactly as before. A page served from the page
   cache therefore costs one round trip, not BEGIN, the query and ROLLBACK, and its statement
   stays prepared on the server (psycopg forgets prepared statements at every ROLLBACK). One
   statement on its own sees one snapshot, as it would as a transaction's first statement at
   PostgreSQL's READ COMMITTED; SQLite (in-process, no round trips) is left as it is."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_CHECKED_IN = "connections.checked_in"
# Execution options: on the session's connection, "leave autocommit before any statement but
# the marked one"; on that one statement, "this one runs outside".
_BEGIN_LATER = "app_begin_later"
_OUTSIDE = "app_outside_transaction"


def watch(engine: Engine, idle_seconds: float) -> None:
    """Set up both behaviours on `engine` (the second on PostgreSQL only)."""
    _ping_when_idle(engine, idle_seconds)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "before_cursor_execute", _leave_autocommit)


def statement_outside_transaction(session: Session) -> dict[str, Any]:
    """Execution options for one statement that may run before the session's transaction (the
    user loader's): {} when the session has begun already or is not on PostgreSQL."""
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return {}
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT", _BEGIN_LATER: True})
    return {_OUTSIDE: True}


def _leave_autocommit(
    conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
) -> None:
    if not conn.get_execution_options().get(_BEGIN_LATER):
        return
    if context is not None and context.execution_options.get(_OUTSIDE):
        return
    dbapi_connection = conn.connection.dbapi_connection
    if dbapi_connection is not None and dbapi_connection.autocommit:
        # Idle between statements in autocommit, so psycopg allows it; its next execute sends
        # BEGIN first, and SQLAlchemy's commit/rollback reach the server as usual. The pool
        # puts the connection back to its default isolation when it is returned.
        dbapi_connection.autocommit = False


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    dialect = engine.dialect

    @event.listens_for(engine.pool, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since <= idle_seconds:
            return  # new (just connected) or in steady use
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if not dialect.is_disconnect(exc, dbapi_connection, None):
                raise
            log.warning("a pooled database connection was dead (%s); replacing it", exc)
            raise DisconnectionError(str(exc)) from exc
