"""Storing snapshots in bulk: one file of seven years gives the same cases as seven files."""

import re
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Area, Case, CaseEvent, Person, RosterEntry, Snapshot
from app.operations.snapshots import (
    EntryInput,
    SnapshotInput,
    prepare_snapshots,
    store_snapshots,
    write_planned,
)
from app.rules.vocabulary import CaseStatus
from tests.factories import make_area

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
# members, residents per year for three areas
HISTORY = {
    "A1": [(10, 6), (7, 5), (8, 5), (9, 5), (7, 2), (8, 6), (12, 9)],
    "A2": [(9, 5)] * 7,
    "A3": [(8, 5), (6, 6), (6, 6), (10, 6), (10, 6), (5, 1), (8, 5)],
}


def roster(code, year, members, residents):
    return tuple(
        EntryInput(f"{code}-p{i}", f"Person {i}", i < residents, "chair" if i == 0 else "member")
        for i in range(members)
    ) + (EntryInput(f"{code}-w", "Worker", False, "worker"),)


def inputs(years):
    return [
        SnapshotInput(code, "annual", 2015 + i, date(2015 + i, 9, 30), roster(code, 2015 + i, m, r))
        for code, rows in HISTORY.items()
        for i, (m, r) in enumerate(rows)
        if 2015 + i in years
    ]


def case_history():
    rows = db.session.execute(
        select(
            Area.code,
            Case.flag,
            Case.status,
            Case.opened_on,
            Case.returned_on,
            Case.resolved_on,
            Case.previous_case_id.is_not(None),
            Case.escalated_count,
        )
        .join(Area, Area.id == Case.area_id)
        .order_by(Area.code, Case.opened_on)
    )
    return [tuple(r) for r in rows]


def setup_areas():
    for code in HISTORY:
        make_area(code)


def test_one_file_of_seven_years_equals_seven_yearly_files(app):
    setup_areas()
    store_snapshots(inputs(range(2015, 2022)), now=NOW)
    db.session.commit()
    together = case_history()
    assert together, "the history must open cases"
    from tests.conftest import empty_all_tables

    empty_all_tables()
    setup_areas()
    for year in range(2015, 2022):
        store_snapshots(inputs([year]), now=NOW)
    assert case_history() == together


def test_storing_the_same_snapshots_twice_changes_nothing(app):
    setup_areas()
    first = store_snapshots(inputs(range(2015, 2022)), now=NOW)
    assert first.snapshots_created == 21
    counts = [
        db.session.scalar(select(func.count()).select_from(t))
        for t in (Snapshot, RosterEntry, Person, Case)
    ]
    events_before = case_history()
    again = store_snapshots(inputs(range(2015, 2022)), now=NOW)
    assert (again.snapshots_created, again.snapshots_replaced, again.snapshots_unchanged) == (
        0,
        0,
        21,
    )
    assert again.cases.opened == again.cases.resolved == 0
    assert counts == [
        db.session.scalar(select(func.count()).select_from(t))
        for t in (Snapshot, RosterEntry, Person, Case)
    ]
    assert case_history() == events_before


def test_a_changed_roster_replaces_the_stored_one_and_reruns_the_rules(app):
    area = make_area("A9")
    store_snapshots(
        [SnapshotInput("A9", "annual", 2021, date(2021, 9, 30), roster("A9", 2021, 10, 6))], now=NOW
    )
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    summary = store_snapshots(
        [SnapshotInput("A9", "annual", 2021, date(2021, 9, 30), roster("A9", 2021, 6, 6))], now=NOW
    )
    assert summary.snapshots_replaced == 1
    (case,) = db.session.scalars(select(Case)).all()
    assert case.flag == "under_criteria"
    assert area.current_members == 6
    entries = db.session.scalar(select(func.count()).select_from(RosterEntry))
    assert entries == 7  # six members and the worker, the old roster gone


def timeline():
    """Every case event (its case named by area and opening day, its snapshot by date: ids
    differ between runs on PostgreSQL), and each area's current figures."""
    snapshot_days = dict(db.session.execute(select(Snapshot.id, Snapshot.effective_on)).all())
    events = db.session.execute(
        select(Area.code, Case.opened_on, CaseEvent.kind, CaseEvent.message, CaseEvent.data)
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Area, Area.id == Case.area_id)
        .order_by(CaseEvent.id)
    )
    areas = db.session.execute(
        select(
            Area.code,
            Area.current_snapshot_on,
            Area.current_members,
            Area.current_flag,
            Area.current_reasons,
        ).order_by(Area.code)
    )
    return [
        (
            *row[:3],
            without_ids(row[3]),
            {**row[4], "snapshot_id": snapshot_days.get(row[4].get("snapshot_id"))},
        )
        for row in events
    ], [tuple(r) for r in areas]


def without_ids(text):
    return re.sub(r"(case|snapshot) #?\d+", r"\1 N", text)


def log_lines(caplog):
    return [without_ids(r.getMessage()) for r in caplog.records]


def test_an_import_gives_the_cases_events_and_log_lines_of_the_one_by_one_rules(app, caplog):
    """Imports plan the rules ahead on drafts (app/operations/import_plan.py); a membership
    update or the demo runs them on the ORM cases. Both give the same programme."""
    from tests.conftest import empty_all_tables

    caplog.set_level("INFO", logger="app.operations.casework")
    setup_areas()
    store_snapshots(inputs(range(2015, 2022)), now=NOW, source="demo")
    db.session.commit()
    one_by_one = case_history(), timeline()
    one_by_one_log = log_lines(caplog)
    assert one_by_one[1][0], "the history must write case events"
    empty_all_tables()
    caplog.clear()
    setup_areas()
    store_snapshots(inputs(range(2015, 2022)), now=NOW, source="import")
    db.session.commit()
    assert (case_history(), timeline()) == one_by_one
    assert log_lines(caplog) == one_by_one_log


def _close_first_open_case():
    case = db.session.scalars(
        select(Case).where(Case.status != CaseStatus.RESOLVED).order_by(Case.id)
    ).first()
    assert case is not None
    case.status, case.closed_on, case.closed_reason = CaseStatus.CLOSED, date(2018, 1, 5), "test"
    db.session.commit()


def test_an_import_works_its_plan_out_again_when_a_case_changed_after_its_check(app):
    """The write checks, holding the lock, that the cases are as the plan read them."""
    from tests.conftest import empty_all_tables

    setup_areas()
    store_snapshots(inputs(range(2015, 2018)), now=NOW)
    store_snapshots(inputs(range(2018, 2022)), now=NOW)
    db.session.commit()
    untouched = case_history()
    empty_all_tables()

    setup_areas()
    store_snapshots(inputs(range(2015, 2018)), now=NOW)
    db.session.commit()
    _close_first_open_case()
    store_snapshots(inputs(range(2018, 2022)), now=NOW)
    db.session.commit()
    closed_first = case_history()
    assert closed_first != untouched, "the closed case must change what the rules do"
    empty_all_tables()

    setup_areas()
    store_snapshots(inputs(range(2015, 2018)), now=NOW)
    db.session.commit()
    later = inputs(range(2018, 2022))
    prepared = prepare_snapshots(later, plan_for=(NOW, None))
    _close_first_open_case()  # someone closes a case while the file is being checked
    write_planned(prepared, later, now=NOW, actor_id=None, thresholds=None)
    db.session.commit()
    assert case_history() == closed_first
