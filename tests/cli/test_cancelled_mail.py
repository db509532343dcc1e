"""Mail whose cause is gone is never sent: cancelled at the source in the same transaction,
and checked again by the sender. End to end through `flask reminders sweep`, `flask outbox
send` and a real SMTP server on loopback."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select, update

from app.extensions import db
from app.models import Case, OutboxMessage
from app.operations import case_actions as ops
from app.operations.assignment import close_case
from app.operations.optout import make_optout_token, opt_out
from tests.cli.test_reminders_end_to_end import london, programme_with_actions
from tests.factories import add_snapshot, make_user
from tests.smtp_server import smtp_server_fixture  # noqa: F401

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def sweep(runner, moment: str) -> None:
    result = runner.invoke(args=["reminders", "sweep", "--now", moment])
    assert result.exit_code == 0, result.output


def send(runner, moment: str):
    result = runner.invoke(args=["outbox", "send", "--now", moment])
    assert result.exit_code == 0, result.output
    return result.output


def queued(case_id: int) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.case_id == case_id, OutboxMessage.status == "queued"
            )
        )
    )


def statuses(case_id: int) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.execute(
        select(OutboxMessage.key, OutboxMessage.status).where(OutboxMessage.case_id == case_id)
    )
    return dict(rows.all())


def mail_to(smtp_server, addresses) -> list:
    """Received messages to any of these addresses (digests to the team are not the case's)."""
    wanted = set(addresses)
    return [m for m in smtp_server.messages if set(m.rcpt_tos) & wanted]


def test_resolving_a_case_cancels_its_queued_mail_and_nothing_is_sent(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30), date(2026, 11, 10)])
    sweep(runner, london(2026, 11, 25, 7, 0))  # before 09:00: partnership mail waits
    assert queued(case.id), "the sweep queued nothing"
    add_snapshot(area, 10, 7, on=date(2026, 11, 25), now=NOW)  # back within criteria
    db.session.commit()
    assert db.session.get(Case, case.id).status == "resolved"
    partnership = {k: s for k, s in statuses(case.id).items() if k.startswith(("action", "case"))}
    assert partnership and set(partnership.values()) == {"cancelled"}
    reason = db.session.scalar(
        select(OutboxMessage.cancelled_reason).where(OutboxMessage.case_id == case.id)
    )
    assert reason == "the case is resolved"
    send(runner, london(2026, 11, 25, 10, 0))
    assert not mail_to(smtp_server, [c.email for c in area.contacts])


def test_closing_a_case_and_completing_an_action_cancel_their_mail(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30), date(2026, 11, 10)])
    sweep(runner, london(2026, 11, 25, 7, 0))
    first, second = sorted(case.plan.actions, key=lambda a: a.id)
    rep = case.rep
    ops.complete_action(case, second, actor=rep, now=NOW)
    db.session.commit()
    by_key = statuses(case.id)
    assert {s for k, s in by_key.items() if k.startswith(f"action:{second.id}:")} == {"cancelled"}
    assert {s for k, s in by_key.items() if k.startswith(f"action:{first.id}:")} == {"queued"}
    programme = make_user("programme")
    close_case(case, "The area left the programme.", actor=programme, now=NOW)
    db.session.commit()
    assert queued(case.id) == []
    send(runner, london(2026, 11, 25, 10, 0))
    assert "sent" not in set(statuses(case.id).values())
    assert not mail_to(smtp_server, [c.email for c in area.contacts])


def test_an_opt_out_cancels_that_contacts_queued_mail(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    sweep(runner, london(2026, 11, 25, 7, 0))
    leaving, staying = area.contacts
    opt_out(make_optout_token(leaving.id), NOW)
    db.session.commit()
    db.session.expire_all()
    mine = db.session.scalars(
        select(OutboxMessage.status).where(OutboxMessage.contact_id == leaving.id)
    ).all()
    assert mine and set(mine) == {"cancelled"}
    send(runner, london(2026, 11, 25, 10, 0))
    recipients = {r for m in smtp_server.messages for r in m.rcpt_tos}
    assert staying.email in recipients and leaving.email not in recipients


def test_the_sender_checks_the_cause_again_just_before_sending(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    sweep(runner, london(2026, 11, 25, 7, 0))
    # The case changes behind the operations' back (another process, an old code path).
    db.session.execute(update(Case).where(Case.id == case.id).values(status="closed"))
    db.session.commit()
    output = send(runner, london(2026, 11, 25, 10, 0))
    assert "whose cause was gone" in output
    assert set(statuses(case.id).values()) == {"cancelled"}
    assert not mail_to(smtp_server, [c.email for c in area.contacts])


def test_the_outbox_shows_cancelled_mail_with_its_reason(app, runner, client):
    from tests.web.test_case_page import login_as

    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    sweep(runner, london(2026, 11, 25, 7, 0))
    add_snapshot(area, 10, 7, on=date(2026, 11, 25), now=NOW)
    db.session.commit()
    login_as(client, make_user("programme"))
    listing = client.get("/outbox?status=cancelled").get_data(as_text=True)
    assert "Not sent: the case is resolved" in listing
    message_id = db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.status == "cancelled").limit(1)
    )
    page = client.get(f"/outbox/{message_id}").get_data(as_text=True)
    assert "not sent: the case is resolved" in page
