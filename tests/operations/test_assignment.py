"""Assigning cases and areas, and closing cases: the change, its event or audit entry, and
what is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEntry, Case, CaseEvent
from app.operations.assignment import (
    assign_case,
    close_case,
    set_area_rep,
)
from app.operations.errors import UserError
from app.operations.versions import ConflictError
from tests.factories import add_snapshot, make_area, make_user

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def open_case(area) -> Case:
    add_snapshot(area, 6, 4, year=2021)
    return db.session.scalar(select(Case).where(Case.area_id == area.id))


def events(case: Case, kind: str) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind == kind)
            .order_by(CaseEvent.id)
        )
    )


def test_assigning_an_unassigned_case_records_the_new_rep(app):
    boss, rep = make_user("programme"), make_user("rep", name="Alex Rep")
    case = open_case(make_area())
    event = assign_case(case, rep, actor=boss, now=NOW, expected_version=case.version)
    assert case.rep_id == rep.id
    assert event.kind == "assigned" and event.data["rep_id"] == rep.id
    assert event.actor_id == boss.id and "Alex Rep" in event.message
    assert case.last_activity_at == NOW


def test_reassigning_names_old_and_new_rep(app):
    boss = make_user("programme")
    old, new = make_user("rep", name="Olive Old"), make_user("rep", name="Ned New")
    case = open_case(make_area(rep=old))
    event = assign_case(case, new, actor=boss, now=NOW, expected_version=case.version)
    assert "Olive Old" in event.message and "Ned New" in event.message
    assert event.data == {"rep_id": new.id, "previous_rep_id": old.id}


def test_unassigning_leaves_the_case_without_rep(app):
    rep = make_user("rep")
    case = open_case(make_area(rep=rep))
    event = assign_case(case, None, actor=make_user("programme"), now=NOW)
    assert case.rep_id is None and event.data["rep_id"] is None


def test_assigning_the_same_rep_changes_nothing(app):
    rep = make_user("rep")
    case = open_case(make_area(rep=rep))
    before = len(events(case, "assigned"))
    assert assign_case(case, rep, actor=None, now=NOW) is None
    assert len(events(case, "assigned")) == before


def test_programme_member_may_be_assigned_but_not_inactive_users(app):
    case = open_case(make_area())
    gone = make_user("rep")
    gone.active = False
    with pytest.raises(UserError, match="no longer active"):
        assign_case(case, gone, actor=None, now=NOW)
    colleague = make_user("programme")
    assign_case(case, colleague, actor=None, now=NOW)
    assert case.rep_id == colleague.id


def test_stale_version_is_refused_and_nothing_changes(app):
    rep = make_user("rep")
    case = open_case(make_area())
    stale = case.version - 1 if case.version > 1 else case.version + 1
    with pytest.raises(ConflictError, match="Someone else changed this case"):
        assign_case(case, rep, actor=None, now=NOW, expected_version=stale)
    assert case.rep_id is None and events(case, "assigned") == []


def test_concurrent_change_in_the_database_is_refused(app):
    rep = make_user("rep")
    case = open_case(make_area())
    db.session.commit()
    loaded = case.version  # this request loads the case...
    # ...and another request saves it meanwhile.
    db.session.execute(
        update(Case).where(Case.id == case.id).values(version=Case.version + 1),
        execution_options={"synchronize_session": False},
    )
    with pytest.raises(ConflictError):
        assign_case(case, rep, actor=None, now=NOW, expected_version=loaded)
    db.session.rollback()
    assert db.session.get(Case, case.id).rep_id is None


def test_a_resolved_case_cannot_be_assigned(app):
    area = make_area()
    case = open_case(area)
    add_snapshot(area, 10, 7, year=2022)
    assert case.status == "resolved"
    with pytest.raises(UserError, match="only open cases"):
        assign_case(case, make_user("rep"), actor=None, now=NOW)


def test_area_rep_change_is_audited_and_moves_the_open_case(app):
    boss = make_user("programme")
    old, new = make_user("rep", name="Olive Old"), make_user("rep", name="Ned New")
    area = make_area("BL010", rep=old)
    case = open_case(area)
    change = set_area_rep(area, new, actor=boss, now=NOW)
    assert area.rep_id == new.id and case.rep_id == new.id
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.target_id == area.id))
    assert audit is change.audit
    assert audit.action == "area_rep_changed" and audit.target_type == "area"
    assert audit.actor_id == boss.id
    assert "Olive Old" in audit.message and "Ned New" in audit.message
    assert audit.data["case_id"] == case.id
    assert events(case, "assigned")[-1].data["rep_id"] == new.id


def test_area_rep_change_can_leave_the_open_case_alone(app):
    old, new = make_user("rep"), make_user("rep")
    area = make_area(rep=old)
    case = open_case(area)
    change = set_area_rep(area, new, actor=None, now=NOW, also_open_case=False)
    assert area.rep_id == new.id and case.rep_id == old.id
    assert change.case_event is None


def test_area_rep_change_without_open_case_only_audits(app):
    area = make_area()
    change = set_area_rep(area, make_user("rep"), actor=None, now=NOW)
    assert change.audit is not None and change.case_event is None


def test_closing_sets_status_date_reason_and_event(app):
    boss = make_user("programme")
    case = open_case(make_area())
    # 23:30 UTC on 1 July is already 2 July in London (BST).
    late = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    event = close_case(
        case, "  Area left the programme ", actor=boss, now=late, expected_version=case.version
    )
    assert case.status == "closed"
    assert case.closed_on == date(2026, 7, 2)
    assert case.closed_reason == "Area left the programme"
    assert event.kind == "closed" and event.actor_id == boss.id
    assert event.data["from"] == "new" and "Area left the programme" in event.message


def test_closing_needs_a_reason(app):
    case = open_case(make_area())
    with pytest.raises(UserError, match="reason"):
        close_case(case, "   ", actor=make_user("programme"), now=NOW)
    assert case.status == "new"


def test_a_rep_cannot_close_a_case(app):
    rep = make_user("rep")
    case = open_case(make_area(rep=rep))
    with pytest.raises(UserError, match="Only the programme team"):
        close_case(case, "done", actor=rep, now=NOW)
    assert case.status == "new"


def test_closing_a_closed_case_is_refused(app):
    boss = make_user("programme")
    case = open_case(make_area())
    close_case(case, "left", actor=boss, now=NOW)
    with pytest.raises(UserError, match="closed"):
        close_case(case, "again", actor=boss, now=NOW)
    assert len(events(case, "closed")) == 1


def test_closing_with_a_stale_version_is_refused(app):
    case = open_case(make_area())
    with pytest.raises(ConflictError):
        close_case(
            case, "left", actor=make_user("programme"), now=NOW, expected_version=case.version + 5
        )
    assert case.status == "new"


def test_the_areas_import_moves_the_open_case_through_set_area_rep(app):
    from app.operations.imports import AreaRow, store_areas

    old, new = make_user("rep", name="Olive Old"), make_user("rep", name="Ned New")
    area = make_area("BL020", rep=old)
    case = open_case(area)
    row = AreaRow(code="BL020", name=area.name, rep_email=new.email, contacts={})
    summary = store_areas([row], now=NOW)
    assert summary.cases_reassigned == 1 and case.rep_id == new.id
    moved = events(case, "assigned")[-1]
    assert moved.message == "Case reassigned from Olive Old to Ned New (areas import)."
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "area_rep_changed"))
    assert audit.data == {"rep_id": new.id, "previous_rep_id": old.id, "case_id": case.id}
