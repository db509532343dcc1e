"""Reminders end to end: `flask reminders sweep` then `flask outbox send` to a real SMTP server
on loopback. Each reminder arrives exactly once, and partnership mail keeps working hours."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Action, ActionPlan, Case, CaseEvent, OutboxMessage
from app.rules.calendar import LONDON
from tests.factories import add_snapshot, make_area, make_user
from tests.smtp_server import smtp_server_fixture  # noqa: F401


@pytest.fixture
def app_config():
    return {"PROGRAMME_TEAM_EMAIL": "team@example.org", "BASE_URL": "https://f.example.org"}


def london(*args) -> str:
    return datetime(*args, tzinfo=LONDON).isoformat()


def programme_with_actions(opened: date, dues: list[date]) -> tuple[Case, object]:
    rep = make_user("rep", email="rita.rep@example.org")
    area = make_area(rep=rep, contacts=2)
    add_snapshot(area, 6, 4, on=opened, now=datetime.combine(opened, datetime.min.time(), UTC))
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    plan = ActionPlan(case=case, barriers=["recruitment"], support=["expert_partner"])
    db.session.add(plan)
    for n, due in enumerate(dues):
        plan.actions.append(Action(description=f"Action {n}", owner="partnership", due_on=due))
    db.session.commit()
    return case, area


def cycle(runner, moment: str, send_exit: int = 0) -> None:
    for args in (["reminders", "sweep", "--now", moment], ["outbox", "send", "--now", moment]):
        result = runner.invoke(args=args)
        expected = send_exit if args[0] == "outbox" else 0
        assert result.exit_code == expected, result.output


def test_sweep_twice_send_twice_each_reminder_arrives_once(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30), date(2026, 11, 10)])
    moment = london(2026, 11, 25, 10, 0)
    cycle(runner, moment)
    cycle(runner, moment)
    later = london(2026, 11, 25, 15, 0)
    cycle(runner, later)
    received = smtp_server.message_ids()
    assert received, "nothing was delivered"
    assert set(received.values()) == {1}, f"delivered twice: {received}"
    recipients = Counter(r for m in smtp_server.messages for r in m.rcpt_tos)
    contacts = [c.email for c in area.contacts]
    # Each contact: one due-soon (30 Nov) and one overdue (10 Nov) reminder; the case is 23 days
    # old, so no 42-day check-in yet.
    for email in contacts:
        assert recipients[email] == 2
    sent_events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "email_sent")
    ).all()
    sent_for_case = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.case_id == case.id, OutboxMessage.status == "sent"
        )
    ).all()
    assert len(sent_events) == len(sent_for_case) >= 2 * len(contacts)
    # Partnership mail replies to the rep.
    partnership = [m.message for m in smtp_server.messages if contacts[0] in m.rcpt_tos]
    assert all(m["Reply-To"] == "rita.rep@example.org" for m in partnership)


def test_christmas_week_partnership_mail_arrives_on_the_29th_at_nine(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 12, 1), [date(2027, 1, 1)])  # due soon 25 Dec
    contacts = {c.email for c in area.contacts}
    arrived: dict[str, set[str]] = {}
    moments = [london(2026, 12, d, h, 0) for d in range(24, 30) for h in (8, 9, 12, 16, 18)]
    for moment in moments:
        before = len(smtp_server.messages)
        cycle(runner, moment)
        for m in smtp_server.messages[before:]:
            for rcpt in m.rcpt_tos:
                arrived.setdefault(rcpt, set()).add(moment)
    partnership_moments = set().union(*(arrived.get(c, set()) for c in contacts))
    assert partnership_moments == {london(2026, 12, 29, 9, 0)}
    # Rep mail (the new-case notice, the Monday digest) is not held back by bank holidays.
    rep_moments = arrived.get("rita.rep@example.org", set())
    assert rep_moments and min(rep_moments) < london(2026, 12, 25, 0, 0)
    assert all(
        datetime.fromisoformat(m).date() != date(2026, 12, 29) or m in rep_moments
        for m in rep_moments
    )


def test_mail_stays_queued_while_the_smtp_server_is_down_then_arrives(app, runner, smtp_server):
    smtp_server.configure(app)
    programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    smtp_server.stop()
    moment = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    cycle(runner, moment.isoformat(), send_exit=1)  # delivered nothing: the server is down
    assert smtp_server.messages == []
    smtp_server.start()
    # Before the backoff has passed nothing is retried (still a failure for a cron job to
    # see); after it, everything arrives once.
    cycle(runner, (moment + timedelta(seconds=5)).isoformat(), send_exit=1)
    assert smtp_server.messages == []
    cycle(runner, (moment + timedelta(minutes=30)).isoformat())
    assert smtp_server.messages and set(smtp_server.message_ids().values()) == {1}
