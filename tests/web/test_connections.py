"""How requests use pooled connections (app/connections.py), on a second app whose requests
run in their own app context and database session, as in production (the `app` fixture keeps
one context open across requests):

- on PostgreSQL the signed-in check runs outside a transaction, and every statement after it
  inside one, for reads and for writes;
- a page served from the page cache is that one statement;
- an idle connection that died is replaced before the request uses it;
- a connection that died while in steady use gives the "try again" page, and the retry works.
"""

from __future__ import annotations

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, event, select, text

from app import create_app
from app.extensions import db
from app.models import CaseEvent
from tests.conftest import _config_for
from tests.factories import make_user
from tests.web.conftest import login_as, post_form
from tests.web.test_case_page import open_case

NOTE = "Rang the chair about the AGM."
NAME = "second-app"  # the second app's connections, as pg_stat_activity names them


@pytest.fixture
def on_postgresql(migrated):
    if not migrated.startswith("postgresql"):
        pytest.skip("autocommit reads and dead connections are PostgreSQL's")
    return migrated


@pytest.fixture
def rep(app):
    user = make_user("rep", name="Asha Rep")
    db.session.commit()
    return user


@pytest.fixture
def second(on_postgresql, app):
    """Build a second app on the test database; each test sets its config before use."""
    made = []

    def build(**config):
        options = {"connect_args": {"application_name": NAME}}
        other = create_app(_config_for(on_postgresql, SQLALCHEMY_ENGINE_OPTIONS=options, **config))
        made.append(other)
        return other

    yield build
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


class Statements:
    """Each statement the app sends, with the connection's state just after it: IDLE (it ran
    outside any transaction) or INTRANS (inside one)."""

    def __init__(self, app) -> None:
        self.seen: list[tuple[str, TransactionStatus]] = []
        with app.app_context():
            event.listen(db.engine, "after_cursor_execute", self._after)

    def _after(self, conn, cursor, statement, parameters, context, many) -> None:
        status = conn.connection.dbapi_connection.info.transaction_status
        self.seen.append((statement.split()[0:4], status))

    def clear(self) -> None:
        self.seen.clear()


def _signed_in(other, user):
    client = other.test_client()
    login_as(client, user)
    return client


def _terminate_second_apps(url: str) -> int:
    """Kill the second app's connections (what a server restart does to a pool)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND application_name = :name"
                    ),
                    {"name": NAME},
                ).all()
            )
    finally:
        engine.dispose()


def test_the_user_is_checked_outside_a_transaction_and_the_page_read_inside_one(second, rep):
    case = open_case(rep)
    other = second()
    statements = Statements(other)
    client = _signed_in(other, rep)
    statements.clear()
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200 and case.area.name in response.get_data(as_text=True)
    (first, first_status), *rest = statements.seen
    assert "users.id," in first  # the signed-in check
    assert first_status == TransactionStatus.IDLE
    assert rest, "the page read nothing after the user"
    assert all(status == TransactionStatus.INTRANS for _, status in rest)


def test_a_write_runs_in_one_transaction_and_is_committed(second, rep, app):
    case = open_case(rep)
    other = second()
    statements = Statements(other)
    client = _signed_in(other, rep)
    statements.clear()
    response = post_form(client, f"/cases/{case.id}/notes", {"note": NOTE})
    assert response.status_code == 302
    (_, first_status), *rest = statements.seen
    assert first_status == TransactionStatus.IDLE
    assert any(words[0] == "INSERT" for words, _ in rest)
    assert all(status == TransactionStatus.INTRANS for _, status in rest)
    db.session.rollback()  # this test's own session: read what the request committed
    notes = db.session.scalars(
        select(CaseEvent.message).where(CaseEvent.case_id == case.id, CaseEvent.kind == "note")
    ).all()
    assert notes == [NOTE]


def test_a_cached_page_is_one_statement_outside_any_transaction(second, rep):
    open_case(rep)
    other = second(PAGE_CACHE_SECONDS=60)
    statements = Statements(other)
    client = _signed_in(other, rep)
    for _ in range(3):  # the first view of a session makes its CSRF token: not kept
        first = client.get("/my-cases").get_data(as_text=True)
    statements.clear()
    again = client.get("/my-cases").get_data(as_text=True)
    assert again == first
    assert len(statements.seen) == 1
    assert statements.seen[0][1] == TransactionStatus.IDLE


def test_an_idle_connection_that_died_is_replaced_before_use(second, rep, on_postgresql):
    case = open_case(rep)
    other = second(POOL_PING_IDLE_SECONDS=0)  # every checkout counts as idle
    client = _signed_in(other, rep)
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert _terminate_second_apps(on_postgresql) >= 1
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    assert case.area.name in response.get_data(as_text=True)


def test_a_connection_that_died_in_use_asks_to_try_again_and_the_retry_works(
    second, rep, on_postgresql, app
):
    case = open_case(rep)
    other = second(POOL_PING_IDLE_SECONDS=3600)  # never pinged: the request finds it dead
    client = _signed_in(other, rep)
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert _terminate_second_apps(on_postgresql) >= 1
    refused = post_form(client, f"/cases/{case.id}/notes", {"note": NOTE})
    assert refused.status_code == 503
    page = refused.get_data(as_text=True)
    assert "try again" in page.lower() and NOTE in page  # what was typed is kept
    retried = post_form(client, f"/cases/{case.id}/notes", {"note": NOTE})
    assert retried.status_code == 302
    db.session.rollback()
    saved = db.session.scalars(
        select(CaseEvent.id).where(CaseEvent.case_id == case.id, CaseEvent.kind == "note")
    ).all()
    assert len(saved) == 1
