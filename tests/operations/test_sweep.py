"""The reminder sweep against a real database: what it enqueues, exactly once
(docs/reminders.md)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Action, ActionPlan, Case, CaseEvent, OutboxMessage
from app.operations.optout import make_optout_token
from app.operations.sweep import run_sweep
from app.rules.calendar import LONDON
from tests.factories import add_snapshot, make_area, make_user
from tests.querycount import count_queries

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # Wednesday, inside the send window


@pytest.fixture
def app_config():
    return {
        "BASE_URL": "https://followup.example.org",
        "SUPPORT_EMAIL": "help@example.org",
        "PROGRAMME_TEAM_EMAIL": "team@example.org",
    }


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


def make_case(*, rep=None, contacts=1, opened=date(2026, 11, 20), now=NOW, area=None) -> Case:
    """An open under-criteria case opened by a membership update on `opened`."""
    area = area or make_area(rep=rep, contacts=contacts)
    add_snapshot(area, 6, 4, on=opened, now=now)
    return db.session.scalar(select(Case).where(Case.area_id == area.id))


def add_action(case, description, due_on, owner="partnership", status="open", support=None):
    plan = case.plan or ActionPlan(case=case, support=support or [], barriers=[])
    db.session.add(plan)
    action = Action(plan=plan, description=description, owner=owner, due_on=due_on, status=status)
    db.session.add(action)
    db.session.flush()
    return action


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.key)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


# --- what is enqueued -----------------------------------------------------------------------


def test_first_sweep_enqueues_new_case_due_soon_and_digests(app):
    rep = make_user("rep", name="Rita Rep", email="rita@example.org")
    case = make_case(rep=rep)
    contact = case.area.contacts[0]
    action = add_action(case, "Recruit two residents", date(2026, 11, 30), support=["networking"])
    summary = run_sweep(NOW)
    keys = [m.key for m in outbox()]
    assert keys == sorted(
        [
            f"action:{action.id}:{action.due_on}:due_soon:c{contact.id}",
            f"case:{case.id}:assigned:{rep.id}",
            "digest:programme:2026-W48",
            f"digest:rep:{rep.id}:2026-W48",
        ]
    )
    assert summary.cases == 1
    assert summary.enqueued == {
        "due_soon": 1,
        "new_case": 1,
        "rep_digest": 1,
        "programme_digest": 1,
    }
    assert summary.already_queued == 0


def test_partnership_mail_names_area_action_date_rep_support_and_opt_out(app):
    rep = make_user("rep", name="Rita Rep", email="rita@example.org")
    case = make_case(rep=rep)
    contact = case.area.contacts[0]
    add_action(case, "Recruit two residents", date(2026, 11, 30), support=["networking"])
    run_sweep(NOW)
    (mail,) = outbox("due_soon")
    assert (mail.recipient, mail.reply_to, mail.status) == (
        contact.email,
        "rita@example.org",
        "queued",
    )
    assert (mail.case_id, mail.contact_id, mail.not_before) == (case.id, contact.id, NOW)
    link = f"https://followup.example.org/optout/{make_optout_token(contact.id)}"
    for body in (mail.body_text, mail.body_html):
        assert case.area.name in body
        assert "Recruit two residents" in body
        assert "30 Nov 2026" in body
        assert "Rita Rep" in body and "rita@example.org" in body
        assert "Networking spaces (e.g. community engagement)" in body
        assert "Time with an expert partner" not in body  # only the plan's support
        assert "help@example.org" in body
        assert link in body
    assert "Recruit two residents" in mail.subject and case.area.name in mail.subject


def test_partnership_mail_without_plan_support_offers_the_general_package(app):
    case = make_case(rep=make_user("rep"))
    add_action(case, "Hold an open meeting", date(2026, 11, 24))  # overdue since yesterday
    run_sweep(NOW)
    (mail,) = outbox("overdue")
    for words in ("Time with an expert partner", "Learning events", "Networking spaces"):
        assert words in mail.body_text


def test_html_mail_escapes_what_users_typed(app):
    case = make_case(rep=make_user("rep"))
    add_action(case, "<script>alert(1)</script> & more", date(2026, 11, 28))
    run_sweep(NOW)
    (mail,) = outbox("due_soon")
    assert "<script>" not in mail.body_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in mail.body_html
    assert "<script>alert(1)</script> & more" in mail.body_text  # plain text is not escaped
    assert "\n" not in mail.subject


def test_rep_and_programme_mail_have_no_reply_to_and_link_to_the_case(app):
    rep = make_user("rep", email="rita@example.org")
    case = make_case(rep=rep, now=NOW - timedelta(days=3))  # opened on Sunday 22 Nov (W47)
    other = make_case(rep=rep, now=NOW)  # opened on Wednesday: in next week's digest
    run_sweep(NOW)
    (mail, _) = outbox("new_case")
    assert (mail.recipient, mail.reply_to, mail.contact_id) == ("rita@example.org", None, None)
    assert f"https://followup.example.org/cases/{case.id}" in mail.body_text
    (digest,) = outbox("programme_digest")
    assert digest.recipient == "team@example.org"
    assert case.area.code in digest.body_text  # a new case of the past week
    assert other.area.code not in digest.body_text


def test_escalation_and_return_are_told_to_rep_and_programme_team(app):
    rep = make_user("rep", email="rita@example.org")
    area = make_area(rep=rep)
    add_snapshot(area, 8, 5, on=date(2026, 11, 1), now=NOW - timedelta(days=2))  # at threshold
    add_snapshot(area, 6, 4, on=date(2026, 11, 20), now=NOW - timedelta(days=1))  # escalated
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    run_sweep(NOW)
    assert {(m.key, m.recipient) for m in outbox("escalated")} == {
        (f"case:{case.id}:escalated:1:rep", "rita@example.org"),
        (f"case:{case.id}:escalated:1:programme", "team@example.org"),
    }
    add_snapshot(area, 8, 6, on=date(2026, 11, 24), now=NOW)  # returned within criteria
    run_sweep(NOW + timedelta(hours=1))
    assert {m.recipient for m in outbox("returned")} == {"rita@example.org", "team@example.org"}


def test_nothing_for_closed_cases_done_actions_and_opted_out_contacts(app):
    rep = make_user("rep")
    closed = make_case(rep=rep)
    add_action(closed, "Closed case action", date(2026, 11, 28))
    closed.status, closed.closed_on, closed.closed_reason = "closed", date(2026, 11, 24), "left"
    done = make_case(rep=rep)
    add_action(done, "Done already", date(2026, 11, 28), status="done")
    add_action(done, "Dropped", date(2026, 11, 28), status="dropped")
    add_action(done, "The rep's own", date(2026, 11, 28), owner="rep")
    quiet = make_case(rep=rep, contacts=2)
    quiet.area.contacts[0].opted_out = True
    add_action(quiet, "Only the second contact hears", date(2026, 11, 28))
    run_sweep(NOW)
    partnership = [m for m in outbox() if m.contact_id is not None]
    assert [m.recipient for m in partnership] == [quiet.area.contacts[1].email]
    assert closed.id not in {m.case_id for m in outbox()}


def test_reassignment_announces_the_case_to_the_new_rep(app):
    first, second = make_user("rep"), make_user("rep", email="sam@example.org")
    case = make_case(rep=first, now=NOW - timedelta(days=20))  # too old to announce now
    case.rep_id = second.id
    db.session.add(
        CaseEvent(case=case, kind="assigned", message="Reassigned", created_at=NOW, data={})
    )
    run_sweep(NOW)
    assert [(m.key, m.recipient) for m in outbox("new_case")] == [
        (f"case:{case.id}:assigned:{second.id}", "sam@example.org")
    ]


def test_enqueue_digests_enqueues_only_the_digests(app):
    from app.operations.sweep import enqueue_digests

    rep = make_user("rep")
    case = make_case(rep=rep)
    add_action(case, "Recruit", date(2026, 11, 24))
    monday = london(2026, 11, 30, 8, 0)
    summary = enqueue_digests(monday)
    assert sorted(m.key for m in outbox()) == [
        "digest:programme:2026-W49",
        f"digest:rep:{rep.id}:2026-W49",
    ]
    assert summary.enqueued == {"rep_digest": 1, "programme_digest": 1}
    assert "Recruit" in outbox("rep_digest")[0].body_text  # the overdue action
    assert run_sweep(monday).enqueued.get("rep_digest", 0) == 0


# --- exactly once ---------------------------------------------------------------------------


def test_sweeping_twice_at_the_same_moment_enqueues_nothing_the_second_time(app):
    case = make_case(rep=make_user("rep"), contacts=2)
    add_action(case, "Recruit", date(2026, 11, 30))
    first = run_sweep(NOW)
    count = outbox_count()
    second = run_sweep(NOW)
    assert first.total == count == 5  # 2 due soon, new case, rep digest, programme digest
    assert (second.total, second.already_queued, outbox_count()) == (0, count, count)


def test_daily_sweeps_for_a_month_give_each_reminder_once(app):
    rep = make_user("rep")
    case = make_case(rep=rep, opened=date(2026, 11, 20))
    contact = case.area.contacts[0]
    action = add_action(case, "Recruit", date(2026, 12, 1))
    for day in range(45):
        run_sweep(NOW + timedelta(days=day))
        db.session.commit()
    keys = {m.key for m in outbox() if m.contact_id}
    assert keys == {
        f"action:{action.id}:{action.due_on}:due_soon:c{contact.id}",
        f"action:{action.id}:{action.due_on}:overdue:1:c{contact.id}",
        f"action:{action.id}:{action.due_on}:overdue:2:c{contact.id}",
        f"action:{action.id}:{action.due_on}:overdue:3:c{contact.id}",
        f"case:{case.id}:checkin:1:c{contact.id}",  # 42 days after 20 Nov: 1 Jan 2027
    }
    digests = {m.key for m in outbox("rep_digest")}
    assert digests == {f"digest:rep:{rep.id}:2026-W{w}" for w in (48, 49, 50, 51, 52, 53)} | {
        f"digest:rep:{rep.id}:2027-W01"
    }
    # No activity since 25 Nov: stale on 23 Dec, again on 6 Jan.
    assert {m.key for m in outbox("stale")} == {
        f"case:{case.id}:stale:2026-11-25:1",
        f"case:{case.id}:stale:2026-11-25:2",
    }


def test_after_a_long_outage_only_the_latest_repeat_is_enqueued(app):
    case = make_case(rep=make_user("rep"))
    contact = case.area.contacts[0]
    action = add_action(case, "Recruit", date(2026, 11, 1))  # repeats 1-3 all past
    run_sweep(NOW)
    assert [m.key for m in outbox("overdue")] == [
        f"action:{action.id}:{action.due_on}:overdue:3:c{contact.id}"
    ]


def test_christmas_week_partnership_mail_waits_until_the_29th_rep_mail_does_not(app):
    rep = make_user("rep")
    case = make_case(rep=rep)
    add_action(case, "Send the membership list", date(2027, 1, 1))  # due soon from 25 Dec
    db.session.commit()
    christmas = london(2026, 12, 25, 10, 0)
    for day in range(4):  # sweeps on 25, 26, 27 and 28 Dec
        run_sweep(christmas + timedelta(days=day))
        db.session.commit()
    (due_soon,) = outbox("due_soon")
    assert due_soon.not_before == london(2026, 12, 29, 9, 0)
    assert due_soon.not_before.astimezone(LONDON).strftime("%d %b %H:%M") == "29 Dec 09:00"
    # The rep's stale reminder (no activity since 25 Nov) and digest go out at once.
    (stale,) = outbox("stale")
    assert stale.not_before == christmas
    assert {m.not_before for m in outbox("rep_digest")} == {
        christmas,
        christmas + timedelta(days=3),
    }


def test_two_threads_sweeping_at_once_enqueue_each_key_once(app):
    for _ in range(20):
        case = make_case(rep=make_user("rep"), contacts=2)
        add_action(case, "Recruit", date(2026, 11, 24))
    db.session.commit()
    expected = 20 * (2 + 1) + 20 + 1  # 2 overdue + new case per case, rep digests, programme
    barrier = threading.Barrier(2)
    results, errors = [], []
    flask_app = app

    def sweep():
        try:
            with flask_app.app_context():
                barrier.wait()
                results.append(run_sweep(NOW))
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    assert outbox_count() == expected
    assert sum(r.total for r in results) == expected
    assert sum(r.already_queued for r in results) == expected


def test_two_processes_sweeping_at_once_enqueue_each_key_once(app):
    for _ in range(10):
        case = make_case(rep=make_user("rep"))
        add_action(case, "Recruit", date(2026, 11, 24))
    db.session.commit()
    expected = 10 * 2 + 10 + 1
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PROGRAMME_TEAM_EMAIL": "team@example.org",
        "SCHEDULER_ENABLED": "0",
    }
    command = [sys.executable, "-m", "flask", "--app", "app", "reminders", "sweep"]
    command += ["--now", NOW.isoformat()]
    procs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    db.session.expire_all()
    assert outbox_count() == expected
    assert len({m.key for m in outbox()}) == expected


# --- set-based reading ----------------------------------------------------------------------


def sweep_queries(n_cases: int) -> int:
    rep = make_user("rep")
    for _ in range(n_cases):
        case = make_case(rep=rep, contacts=2)
        add_action(case, "Recruit", date(2026, 11, 24))
        add_action(case, "Meet", date(2026, 11, 30), owner="rep")
    db.session.commit()
    with count_queries() as counter:
        summary = run_sweep(NOW)
    assert summary.cases >= n_cases
    return counter.count


def test_the_sweep_runs_a_fixed_number_of_queries_whatever_the_number_of_cases(app):
    few = sweep_queries(2)
    db.session.execute(OutboxMessage.__table__.delete())
    many = sweep_queries(25)
    assert few == many
    assert many <= 10


def test_recent_activity_keeps_a_case_from_going_stale(app):
    rep = make_user("rep")
    touched = make_case(rep=rep, now=NOW - timedelta(days=40))
    untouched = make_case(rep=rep, now=NOW - timedelta(days=40))
    db.session.add(CaseEvent(case=touched, kind="note", message="Called", created_at=NOW))
    touched.last_activity_at = NOW - timedelta(days=1)
    run_sweep(NOW)
    assert [m.case_id for m in outbox("stale")] == [untouched.id]


def test_mails_say_what_would_bring_the_area_back(app):
    rep = make_user("rep", email="rita@example.org")
    case = make_case(rep=rep, opened=date(2026, 10, 1))  # 6 members, 4 residents
    run_sweep(london(2026, 11, 25, 10, 0))
    db.session.commit()
    rows = db.session.execute(
        select(OutboxMessage.kind, OutboxMessage.body_text).where(OutboxMessage.case_id == case.id)
    ).all()
    new_case = [body for kind, body in rows if kind == "new_case"]
    checkins = [body for kind, body in rows if kind == "checkin"]
    assert new_case and checkins
    assert "As last recorded, the area needs 2 more members" in new_case[0]
    for body in checkins:
        assert "As last recorded, the partnership needs 2 more members" in body
