"""The search's indexes (migration 0013): they stay in step with their tables, and every kind
of search reads them rather than every row."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, event, update

from app.extensions import db
from app.models import CaseEvent, Contact, Person
from app.operations import case_actions as ops
from app.queries.search import search
from bench.plans import full_scans
from tests.factories import make_user
from tests.web.test_my_cases import case_in_new_area

SEARCHED_TABLES = {"areas", "users", "contacts", "persons", "case_events", "cases"}


@pytest.fixture
def setting(app, now):
    programme = make_user("programme", name="Pat Programme")
    rep = make_user("rep", name="Rita Ownrep", email="rita@example.org")
    case = case_in_new_area(rep, (6, 4), name="Kestrel Vale")
    case.area.contacts[0].name = "Mina Contact"
    ops.add_note(case, "The treasurer wants a zebrafish stall", rep, now)
    db.session.commit()
    return programme, rep, case


def titles(text: str, viewer, kind: str) -> list[str]:
    found = {g.kind: g for g in search(text, viewer).groups}
    return [hit.title for hit in found[kind].hits] if kind in found else []


def test_renamed_deleted_and_new_rows_are_found_as_they_now_are(setting, now):
    programme, rep, case = setting
    contact = case.area.contacts[0]
    contact.name = "Nadia Renamed"
    db.session.commit()
    assert titles("renamed", programme, "contacts") == ["Nadia Renamed"]
    assert titles("mina contact", programme, "contacts") == []
    db.session.execute(update(Person).where(Person.name == "Person 3").values(name="Wren Newname"))
    db.session.commit()
    assert titles("newname", programme, "members") == ["Wren Newname"]
    assert titles("person 3", programme, "members") == []
    db.session.execute(delete(Contact).where(Contact.id == contact.id))
    db.session.commit()
    assert titles("renamed", programme, "contacts") == []
    # A note is found from the moment it is written, and no longer once it is not a note.
    ops.add_note(case, "Second thought about otters", rep, now)
    db.session.commit()
    assert titles("otters", programme, "notes") == [f"Case #{case.id} · {case.area.code}"]
    db.session.execute(
        update(CaseEvent).where(CaseEvent.message.like("%otters%")).values(kind="other_kind")
    )
    assert titles("otters", programme, "notes") == []
    db.session.rollback()


@pytest.mark.parametrize("who", ["programme", "rep"])
@pytest.mark.parametrize("text", ["ke", "kestrel", "zebrafish", "rita@", "person 3", "1"])
def test_no_kind_reads_a_searched_table_whole(setting, who, text):
    programme, rep, _case = setting
    viewer = programme if who == "programme" else rep
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        search(text, viewer)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    postgres = db.engine.dialect.name == "postgresql"
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        # The test's tables are tiny, where reading them whole is rightly cheapest: ask
        # whether the indexes can serve each statement at all, as they must for large tables.
        if postgres:
            cursor.execute("SET enable_seqscan = off")
        else:
            forget_sqlite_statistics(cursor)
        for sql, params in statements:
            cursor.execute(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql, params)
            lines = [row[0] if postgres else row[3] for row in cursor.fetchall()]
            assert not full_scans(sql, lines, postgres) & SEARCHED_TABLES, (sql, lines)
    finally:
        raw.rollback()
        raw.invalidate()  # not back to the pool with its planner's settings changed


def forget_sqlite_statistics(cursor) -> None:
    """Another test may have run ANALYZE (app.operations.maintenance) on this database, whose
    statistics then say every table is tiny. Within this (rolled back) transaction the planner
    is made to plan without them, as for tables it knows nothing about."""
    cursor.execute("BEGIN")
    cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
    if cursor.fetchone():
        cursor.execute("DELETE FROM sqlite_stat1")
        cursor.execute("ANALYZE sqlite_schema")


def test_people_stored_by_an_import_are_found_at_once(setting, now):
    """The import writes persons in multi-row statements (app.operations.snapshots); each
    of them reaches the search's index all the same, renamed ones too."""
    from datetime import date

    from app.operations.snapshots import EntryInput, SnapshotInput, store_snapshots

    programme, _rep, case = setting

    def stored(names: list[str], year: int) -> None:
        entries = tuple(
            EntryInput(f"imported-{i}", name, True, "member") for i, name in enumerate(names)
        )
        snapshot = SnapshotInput(case.area.code, "annual", year, date(year, 9, 30), entries)
        store_snapshots([snapshot], now=now)
        db.session.commit()

    names = [f"Quillon Imported {i}" for i in range(12)]
    stored(names, 2019)
    assert len(search("quillon", programme).groups[0].hits) == 10
    assert {g.kind: g.total for g in search("quillon", programme).groups} == {"members": 12}
    stored(["Zorrin Renamed"] + names[1:], 2020)
    assert titles("zorrin", programme, "members") == ["Zorrin Renamed"]
    assert titles("quillon imported 0", programme, "members") == []
