"""SQLite: a web write that cannot get the write lock in time (another connection holds it, as
a large import does) gets the "busy, try again" page with what was typed, never a 500; the
page's Try again sends it once the lock is free."""

from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager
from html import unescape

import pytest
from flask import g
from flask_login.utils import _create_identifier
from sqlalchemy import func, make_url, select

from app.extensions import db
from app.models import Case, CaseEvent
from tests.factories import add_snapshot, make_area, make_user
from tests.web.conftest import csrf_token, session_id_for

NOTE = "Spoke to the chair: they'd like a visit\nafter the AGM in March."


@pytest.fixture
def app_config():
    return {"SQLITE_BUSY_TIMEOUT_SECONDS": 0.2}


@pytest.fixture
def sqlite_path(app) -> str:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("the write lock is SQLite's")
    return url.database


@contextmanager
def write_lock_held(path: str):
    """Another connection takes SQLite's write lock (BEGIN IMMEDIATE) and keeps it."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


def login_as(client, user) -> None:
    g.pop("_login_user", None)
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess.update({"_user_id": session_id_for(user), "_fresh": True, "_id": identifier})


@pytest.fixture
def case_id(app):
    rep = make_user("rep")
    area = make_area(rep=rep)
    add_snapshot(area, 6, 4, year=2026)
    db.session.commit()
    return db.session.scalar(select(Case.id).where(Case.area_id == area.id)), rep


def notes(case_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(CaseEvent.case_id == case_id, CaseEvent.kind == "note")
    )


def hidden_fields(html: str) -> dict[str, str]:
    return {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    }


def test_a_note_posted_while_the_database_is_locked_gets_the_busy_page(
    client, case_id, sqlite_path, caplog
):
    case_id, rep = case_id
    login_as(client, rep)
    url = f"/cases/{case_id}/notes"
    with write_lock_held(sqlite_path):
        response = client.post(url, data={"note": NOTE, "csrf_token": csrf_token(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "The system is busy — try again" in html
    assert "Nothing was saved yet" in html
    # What was typed is on the page, and the Try again form carries it.
    assert NOTE.replace("'", "&#39;") in html
    assert f'<form method="post" action="{url}"' in html
    retry = hidden_fields(html)
    assert retry["note"] == NOTE and retry["csrf_token"]
    assert notes(case_id) == 0
    assert any(
        r.levelname == "WARNING" and "gave up waiting for the write lock" in r.getMessage()
        for r in caplog.records
    )
    # The lock is free again: Try again saves the note as typed.
    again = client.post(url, data=retry)
    assert again.status_code == 302
    db.session.expire_all()
    assert notes(case_id) == 1
    message = db.session.scalar(select(CaseEvent.message).where(CaseEvent.kind == "note"))
    assert message == NOTE


def test_the_busy_page_keeps_every_field_of_a_versioned_form(client, case_id, sqlite_path):
    case_id, rep = case_id
    login_as(client, rep)
    data = {
        "version": "0",  # no plan yet
        "barriers_text": "The treasurer is leaving",
        "target_members": "10",
        "barriers": ["recruitment", "other"],
    }
    with write_lock_held(sqlite_path):
        response = client.post(
            f"/cases/{case_id}/plan", data={**data, "csrf_token": csrf_token(client)}
        )
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "The treasurer is leaving" in html
    assert re.findall(r'name="barriers" value="([^"]+)"', html) == ["recruitment", "other"]
    assert 'name="version" value="0"' in html
    assert db.session.get(Case, case_id).plan is None


def test_reading_pages_is_not_blocked_by_a_write_lock(client, case_id, sqlite_path):
    case_id, rep = case_id
    login_as(client, rep)
    with write_lock_held(sqlite_path):
        response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    assert "Add a note" in response.get_data(as_text=True)
