"""One notice per rep: a bulk assignment or a handover gives a rep one mail listing every case
(and area) they received, queued in the same transaction, and no per-case new-case mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, CaseEvent, OutboxMessage
from app.operations.assignment import assign_case
from app.operations.bulk import bulk_change
from app.operations.handover import deactivate_with_handover
from app.operations.outbox import send_due
from app.operations.sweep import run_sweep
from tests.factories import add_snapshot, make_area, make_user
from tests.smtp_server import smtp_server_fixture  # noqa: F401

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def app_config():
    return {"BASE_URL": "https://followup.example.org", "SUPPORT_EMAIL": "help@example.org"}


def open_cases(n: int, rep=None, prefix="BN") -> list[Case]:
    cases = []
    for i in range(n):
        area = make_area(f"{prefix}{i:03d}", rep=rep)
        add_snapshot(area, 6, 4, year=2026, now=NOW - timedelta(days=30))
        cases.append(db.session.scalar(select(Case).where(Case.area_id == area.id)))
    db.session.commit()
    return cases


def mail(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def test_bulk_assignment_sends_the_rep_one_mail_listing_every_case(app):
    boss = make_user("programme")
    nina = make_user("rep", name="Nina New", email="nina@example.org")
    cases = open_cases(5)
    outcome = bulk_change(
        [(c.id, c.version) for c in cases], "assign", actor=boss, now=NOW, rep=nina
    )
    db.session.commit()
    assert len(outcome.changed) == 5 and outcome.notified
    (notice,) = mail()
    assert notice.kind == "new_cases" and notice.recipient == "nina@example.org"
    assert notice.case_id is None  # about several cases
    assert notice.subject == "5 cases assigned to you"
    for case in cases:
        assert f"{case.area.name} ({case.area.code})" in notice.body_text
        assert f"https://followup.example.org/cases/{case.id}" in notice.body_text
        assert f'href="https://followup.example.org/cases/{case.id}"' in notice.body_html
    # One event per case, each marked as told in the list.
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "assigned")).all()
    assert len(events) == 5 and {e.data["notice"] for e in events} == {"new_cases"}
    # The sweep adds no per-case new-case mail for them.
    run_sweep(NOW + timedelta(minutes=5))
    db.session.commit()
    assert mail("new_case") == [] and len(mail("new_cases")) == 1


def test_refused_cases_are_not_in_the_list(app):
    boss = make_user("programme")
    nina = make_user("rep", name="Nina New")
    cases = open_cases(3)
    stale = cases[0]
    outcome = bulk_change(
        [(c.id, c.version) for c in cases[1:]] + [(stale.id, stale.version - 1)],
        "assign",
        actor=boss,
        now=NOW,
        rep=nina,
    )
    db.session.commit()
    assert len(outcome.refused) == 1
    (notice,) = mail("new_cases")
    assert notice.subject == "2 cases assigned to you"
    assert stale.area.code not in notice.body_text
    assert all(c.area.code in notice.body_text for c in cases[1:])


def test_unassigning_and_closing_in_bulk_send_nothing(app):
    boss = make_user("programme")
    rep = make_user("rep")
    cases = open_cases(2, rep=rep)
    bulk_change([(cases[0].id, None)], "unassign", actor=boss, now=NOW)
    bulk_change([(cases[1].id, None)], "close", actor=boss, now=NOW, reason="Merged")
    db.session.commit()
    assert mail("new_cases") == []


def test_the_list_is_rolled_back_with_the_change(app):
    boss = make_user("programme")
    nina = make_user("rep")
    cases = open_cases(2)
    bulk_change([(c.id, None) for c in cases], "assign", actor=boss, now=NOW, rep=nina)
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_a_later_single_assignment_gets_its_own_notice_again(app):
    boss = make_user("programme")
    nina, omar = make_user("rep"), make_user("rep", email="omar@example.org")
    (case,) = open_cases(1)
    bulk_change([(case.id, None)], "assign", actor=boss, now=NOW, rep=nina)
    assign_case(case, omar, actor=boss, now=NOW + timedelta(minutes=1))
    db.session.commit()
    run_sweep(NOW + timedelta(minutes=5))
    db.session.commit()
    assert [m.recipient for m in mail("new_case")] == ["omar@example.org"]


def test_handover_sends_the_successor_one_mail_with_areas_and_cases(app):
    admin = make_user("programme", admin=True)
    lee = make_user("rep", name="Lee Leaving")
    sue = make_user("rep", name="Sue Successor", email="sue@example.org")
    area_cases = open_cases(3, rep=lee, prefix="BH")
    queue_case = open_cases(1, prefix="BQ")[0]
    assign_case(queue_case, lee, actor=admin, now=NOW - timedelta(days=1))
    db.session.commit()
    done = deactivate_with_handover(lee, sue, actor=admin, now=NOW)
    db.session.commit()
    assert (done.areas, done.cases, done.notified) == (3, 4, True)
    (notice,) = mail("new_cases")
    assert notice.recipient == "sue@example.org"
    assert notice.subject == "Handed over to you from Lee Leaving: 3 areas and 4 open cases"
    assert "Lee Leaving has left" in notice.body_text
    for case in [*area_cases, queue_case]:
        assert f"/cases/{case.id}" in notice.body_text
    for case in area_cases:
        assert f"/areas/{case.area.code}" in notice.body_text
    assert f"/areas/{queue_case.area.code}" not in notice.body_text  # not Lee's area
    run_sweep(NOW + timedelta(minutes=5))
    db.session.commit()
    # Lee's own notice of the case assigned the day before is cancelled; Sue gets no other.
    assert [(m.recipient, m.status) for m in mail("new_case")] == [(lee.email, "cancelled")]


def test_handover_to_the_queue_sends_no_list(app):
    admin = make_user("programme", admin=True)
    lee = make_user("rep")
    open_cases(2, rep=lee)
    done = deactivate_with_handover(lee, None, actor=admin, now=NOW)
    db.session.commit()
    assert done.cases == 2 and not done.notified
    assert mail("new_cases") == []


def test_the_list_is_delivered_over_smtp(app, smtp_server):
    smtp_server.configure(app)
    boss = make_user("programme")
    nina = make_user("rep", name="Nina New", email="nina@example.org")
    cases = open_cases(2)
    bulk_change([(c.id, None) for c in cases], "assign", actor=boss, now=NOW, rep=nina)
    db.session.commit()
    summary = send_due(NOW, worker="test")
    db.session.commit()
    assert summary.sent == 1
    (received,) = smtp_server.messages
    message = received.message
    assert message["To"] == "nina@example.org"
    assert message["Subject"] == "2 cases assigned to you"
    body = message.get_body(("plain",)).get_content()
    assert all(c.area.code in body for c in cases)
