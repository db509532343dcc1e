"""A bouncing recipient, end to end: `flask reminders sweep`, `flask outbox send` and a real
SMTP server that refuses one contact's address with 550 5.1.1. The message fails, the address
is marked bouncing in the same transaction, the rep is told once, nothing more goes to it, the
case and area pages show it, and changing the address on the contact page clears it."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, CaseEvent, Contact, OutboxMessage
from app.rules.vocabulary import EventKind, OutboxStatus, ReminderKind
from tests.cli.test_cancelled_mail import mail_to, send, sweep
from tests.cli.test_reminders_end_to_end import london, programme_with_actions
from tests.smtp_server import smtp_server_fixture  # noqa: F401
from tests.web.conftest import login_as, post_form

REP = "rita.rep@example.org"
BADGE = '<span class="badge text-bg-danger">Address bouncing</span>'


def contact_row(contact_id: int) -> Contact:
    db.session.expire_all()
    return db.session.get(Contact, contact_id)


def messages_to(address: str) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.recipient == address)
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def bounced_programme(runner, smtp_server):
    """Two contacts with a due-soon and an overdue reminder each; the first one's address is
    refused by the server; one sweep and one send at 10:00 on 25 Nov."""
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30), date(2026, 11, 10)])
    bad, good = area.contacts[0], area.contacts[1]
    smtp_server.refuse.add(bad.email)
    sweep(runner, london(2026, 11, 25, 10, 0))
    assert len(messages_to(bad.email)) == 2, "the sweep should queue two reminders to each"
    send(runner, london(2026, 11, 25, 10, 0))
    return case, area, bad.id, good.id


def test_a_refused_recipient_fails_and_marks_the_contact_bouncing(app, runner, smtp_server, caplog):
    smtp_server.configure(app)
    caplog.set_level(logging.WARNING, logger="app")
    case, area, bad_id, good_id = bounced_programme(runner, smtp_server)

    bad, good = contact_row(bad_id), contact_row(good_id)
    first, second = messages_to(bad.email)
    assert first.status == OutboxStatus.FAILED
    assert "SMTPRecipientsRefused" in first.last_error and "5.1.1" in first.last_error
    # The second was in the same batch: the sender saw the bounce and did not try it.
    assert second.status == OutboxStatus.CANCELLED
    assert second.cancelled_reason == f"the address {bad.email} bounces"
    assert bad.bouncing_at is not None and bad.bounce_reply.startswith("550 5.1.1")
    assert good.bouncing_at is None
    assert len(mail_to(smtp_server, [good.email])) == 2
    assert not mail_to(smtp_server, [bad.email])
    audit = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == EventKind.CONTACT_BOUNCING)
    ).all()
    assert [(a.target_type, a.target_id) for a in audit] == [("contact", bad_id)]
    event = db.session.scalar(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.CONTACT_BOUNCING
        )
    )
    assert event is not None and bad.email in event.message
    assert event.data["outbox_id"] == first.id
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        f"Contact {bad_id} (area {area.code})" in line and f"outbox message {first.id}" in line
        for line in warnings
    ), warnings


def test_the_rep_gets_one_notice_and_nothing_more_goes_to_the_address(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area, bad_id, good_id = bounced_programme(runner, smtp_server)
    bad_email = contact_row(bad_id).email

    notices = mail_to(smtp_server, [REP])
    notice_rows = [m for m in messages_to(REP) if m.kind == ReminderKind.BOUNCE_NOTICE]
    assert len(notice_rows) == 1 and notice_rows[0].status == OutboxStatus.SENT
    (notice,) = [m for m in notices if "bounce" in m.message["Subject"]]
    body = notice.message.get_body(("plain",)).get_content()
    assert bad_email in body and "550 5.1.1" in body
    assert f"/areas/{area.code}/contacts/{bad_id}" in body

    # A week later: new overdue reminders for the good contact, none for the bouncing one,
    # and no second notice.
    before = len(messages_to(bad_email))
    sweep(runner, london(2026, 12, 2, 10, 0))
    send(runner, london(2026, 12, 2, 10, 0))
    assert len(messages_to(bad_email)) == before
    assert len(mail_to(smtp_server, [contact_row(good_id).email])) > 2
    assert [m.kind for m in messages_to(REP)].count(ReminderKind.BOUNCE_NOTICE) == 1
    assert smtp_server.refuse and not mail_to(smtp_server, [bad_email])


def test_pages_show_the_bouncing_address_until_it_is_changed(app, runner, smtp_server, client):
    smtp_server.configure(app)
    case, area, bad_id, _ = bounced_programme(runner, smtp_server)
    rep = case.rep
    login_as(client, rep)

    area_html = client.get(f"/areas/{area.code}").get_data(as_text=True)
    case_html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    contact_html = client.get(f"/areas/{area.code}/contacts/{bad_id}").get_data(as_text=True)
    assert BADGE in area_html and "Contact history" in area_html
    assert "address bouncing since 25 Nov 2026" in case_html
    assert "550 5.1.1" in contact_html

    new_address = "chair.new@example.org"
    response = post_form(
        client, f"/areas/{area.code}/contacts/{bad_id}/email", {"email": new_address}
    )
    assert response.status_code == 303
    contact = contact_row(bad_id)
    assert (contact.email, contact.bouncing_at, contact.bounce_reply) == (new_address, None, None)
    changed = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == EventKind.CONTACT_EMAIL_CHANGED)
    )
    assert changed.actor_id == rep.id and changed.data["was_bouncing"] is True
    area_html = client.get(f"/areas/{area.code}").get_data(as_text=True)
    case_html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert BADGE not in area_html and "address bouncing" not in case_html
    assert "email changed from" in area_html  # the contact history keeps what happened
    assert new_address in area_html and new_address in case_html

    # Reminders reach the new address.
    sweep(runner, london(2026, 12, 2, 10, 0))
    send(runner, london(2026, 12, 2, 10, 0))
    assert mail_to(smtp_server, [new_address])


def test_a_refused_address_of_someone_else_in_the_batch_marks_only_that_contact(
    app, runner, smtp_server
):
    """The sender-wide outage handling is not triggered by one bouncing recipient."""
    smtp_server.configure(app)
    _, _, bad_id, good_id = bounced_programme(runner, smtp_server)
    bouncing = db.session.scalar(
        select(func.count()).select_from(Contact).where(Contact.bouncing_at.is_not(None))
    )
    assert bouncing == 1
    assert contact_row(good_id).bouncing_at is None
    statuses = {m.status for m in messages_to(contact_row(good_id).email)}
    assert statuses == {OutboxStatus.SENT}
