"""Bounces at the sender: which refusals mark an address bouncing, one notice per bounce, and
mail to a bouncing address cancelled (through the aiosmtpd server)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Contact, OutboxMessage
from app.operations.contacts import change_email, mark_bouncing
from app.operations.outbox import send_due
from app.rules.vocabulary import OutboxStatus, ReminderKind
from tests.factories import make_area, make_user
from tests.smtp_server import queue_message, smtp_server_fixture  # noqa: F401


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def notices() -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.kind == ReminderKind.BOUNCE_NOTICE)
    return list(db.session.scalars(query))


def area_with_contact():
    rep = make_user("rep", email="rep.bounce@example.org")
    area = make_area(rep=rep, contacts=1)
    return area, area.contacts[0]


def test_a_refusal_after_data_of_class_5_1_is_a_bounce_too(app, smtp_server, now):
    smtp_server.configure(app)
    _, contact = area_with_contact()
    smtp_server.refuse_after_data.add(contact.email)
    message = queue_message("late", now=now, contact=contact, recipient=contact.email)
    db.session.commit()

    summary = send_due(now, worker="w1")

    assert summary.failed == 1 and summary.error is None  # not an outage: no backoff
    assert fresh(OutboxMessage, message.id).status == OutboxStatus.FAILED
    assert fresh(Contact, contact.id).bounce_reply == "550 5.1.1 Mailbox unknown"


def test_a_relay_refusing_everything_marks_no_address_bouncing(app, smtp_server, now):
    smtp_server.configure(app)
    _, contact = area_with_contact()
    smtp_server.refuse_all = True
    queue_message("blanket", now=now, contact=contact, recipient=contact.email)
    db.session.commit()

    send_due(now, worker="w1")

    assert fresh(Contact, contact.id).bouncing_at is None
    assert notices() == []


def test_a_second_refusal_of_a_bouncing_address_sends_no_second_notice(app, now):
    _, contact = area_with_contact()
    db.session.commit()

    assert mark_bouncing(contact.id, "550 5.1.1 gone", now) is True
    assert mark_bouncing(contact.id, "550 5.1.1 gone", now + timedelta(minutes=1)) is False
    db.session.commit()

    (notice,) = notices()
    assert notice.recipient == "rep.bounce@example.org" and notice.contact_id is None


def test_mail_queued_to_a_bouncing_address_is_cancelled_by_the_sender(app, smtp_server, now):
    smtp_server.configure(app)
    _, contact = area_with_contact()
    contact.bouncing_at = now - timedelta(days=1)
    contact.bounce_reply = "550 5.1.1 gone"
    message = queue_message("late-queued", now=now, contact=contact, recipient=contact.email)
    db.session.commit()

    summary = send_due(now, worker="w1")

    message = fresh(OutboxMessage, message.id)
    assert summary.cancelled == 1 and smtp_server.messages == []
    assert (message.status, message.cancelled_reason) == (
        OutboxStatus.CANCELLED,
        f"the address {contact.email} bounces",
    )


def test_an_area_without_a_rep_tells_the_programme_team(app, now):
    area = make_area(contacts=1)
    db.session.commit()

    mark_bouncing(area.contacts[0].id, "550 5.1.1 gone", now)

    (notice,) = notices()
    assert notice.recipient == app.config["PROGRAMME_TEAM_EMAIL"]


def test_after_a_new_address_a_new_bounce_sends_a_new_notice(app, now):
    _, contact = area_with_contact()
    staff = make_user("programme")
    db.session.commit()

    mark_bouncing(contact.id, "550 5.1.1 gone", now)
    change_email(contact, "second@example.org", actor=staff, now=now + timedelta(hours=1))
    mark_bouncing(contact.id, "550 5.1.1 gone too", now + timedelta(hours=2))
    db.session.commit()

    assert len(notices()) == 2
    assert fresh(Contact, contact.id).bounce_reply == "550 5.1.1 gone too"


def test_a_new_address_takes_over_the_mail_still_queued_for_the_contact(app, smtp_server, now):
    smtp_server.configure(app)
    _, contact = area_with_contact()
    staff = make_user("programme")
    message = queue_message("queued-before", now=now, contact=contact, recipient=contact.email)
    db.session.commit()

    change_email(contact, "Fixed@Example.org", actor=staff, now=now)
    db.session.commit()
    send_due(now, worker="w1")

    assert fresh(OutboxMessage, message.id).status == OutboxStatus.SENT
    assert [m.rcpt_tos for m in smtp_server.messages] == [("fixed@example.org",)]
