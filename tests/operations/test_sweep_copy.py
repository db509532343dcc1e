"""PostgreSQL only: a large sweep's rows go in with COPY (app.operations.sweep._copy_in); they
must be the very rows the plain INSERT writes, and a key queued meanwhile must still be
skipped, not written twice nor fail the sweep."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import OutboxMessage
from app.operations import sweep
from app.operations.sweep import run_sweep
from tests.factories import make_user
from tests.operations.test_sweep import NOW, add_action, app_config, make_case  # noqa: F401

COLUMNS = [getattr(OutboxMessage, name) for name in sweep.COLUMNS]


@pytest.fixture(autouse=True)
def postgresql_only(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's; set TEST_DATABASE_URL")


def some_cases() -> None:
    rep = make_user("rep", name="Rita Rep", email="rita@example.org")
    for n in range(3):
        case = make_case(rep=rep, contacts=2)
        add_action(case, f"Recruit {n} residents", date(2026, 11, 30), support=["networking"])
        add_action(case, "Hold the meeting", date(2026, 11, 2))


def rows() -> list[tuple]:
    query = select(OutboxMessage.id, *COLUMNS).order_by(OutboxMessage.key)
    return [tuple(row) for row in db.session.execute(query)]


def sweep_with(monkeypatch, copy_from: int) -> tuple[sweep.SweepSummary, list[tuple]]:
    monkeypatch.setattr(sweep, "COPY_FROM", copy_from)
    db.session.execute(delete(OutboxMessage))
    summary = run_sweep(NOW)
    return summary, rows()


def test_rows_copied_in_are_the_rows_the_plain_insert_writes(app, monkeypatch):
    some_cases()
    plain_summary, plain = sweep_with(monkeypatch, 10**9)
    copied_summary, copied = sweep_with(monkeypatch, 1)
    assert len(plain) > 10
    assert [row[1:] for row in copied] == [row[1:] for row in plain]
    assert copied_summary.enqueued == plain_summary.enqueued
    # Ids follow the keys, as in the plain INSERT: the sender sends in that order.
    assert [row[0] for row in copied] == sorted(row[0] for row in copied)


def test_a_key_queued_meanwhile_is_skipped_and_the_rest_copied_in(app, monkeypatch):
    some_cases()
    _, expected = sweep_with(monkeypatch, 10**9)
    taken = db.session.get(OutboxMessage, expected[3][0])
    assert taken is not None
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id != taken.id))
    taken.subject = "queued by another sweep"
    db.session.flush()
    # The sweep read the outbox before the other one wrote: it does not know the key.
    monkeypatch.setattr(sweep, "existing_keys", lambda digest_keys: set())
    monkeypatch.setattr(sweep, "COPY_FROM", 1)
    summary = run_sweep(NOW)
    written = rows()
    assert [row[1] for row in written] == [row[1] for row in expected]
    assert [row[1:] for row in written if row[1] != taken.key] == [
        row[1:] for row in expected if row[1] != taken.key
    ]
    assert db.session.get(OutboxMessage, taken.id).subject == "queued by another sweep"
    assert (summary.total, summary.already_queued) == (len(expected) - 1, 1)


def test_two_copies_in_one_transaction(app, monkeypatch):
    """The temporary table of the second way in is dropped after use: another enqueue that
    needs it in the same transaction finds none left over."""
    some_cases()
    monkeypatch.setattr(sweep, "existing_keys", lambda digest_keys: set())
    monkeypatch.setattr(sweep, "COPY_FROM", 1)
    first = run_sweep(NOW)
    second = run_sweep(NOW)
    third = run_sweep(NOW)
    assert first.total > 0
    assert (second.total, second.already_queued) == (0, first.total)
    assert (third.total, third.already_queued) == (0, first.total)
