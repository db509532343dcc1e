"""One-click unsubscribe (RFC 8058) and opting back in, end to end: the sweep queues, the
sender delivers to a real SMTP server, the headers are read from the message it received, and
the mail client's POST goes to the URL in them."""

from __future__ import annotations

from datetime import date
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, CaseEvent, Contact, OutboxMessage
from app.operations.optout import make_optout_token
from app.operations.outbox import message_id_for
from app.rules.vocabulary import EventKind, OutboxStatus, ReminderKind
from tests.cli.test_cancelled_mail import send, sweep
from tests.cli.test_reminders_end_to_end import london, programme_with_actions
from tests.factories import make_user
from tests.smtp_server import smtp_server_fixture  # noqa: F401
from tests.web.conftest import login_as, post_form

BASE = "https://followup.example.org"
PARTNERSHIP_KINDS = {ReminderKind.DUE_SOON, ReminderKind.OVERDUE, ReminderKind.CHECKIN}
ONE_CLICK_BODY = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def app_config() -> dict:
    return {"BASE_URL": BASE, "MAIL_UNSUBSCRIBE_ADDRESS": "stop@example.org"}


def contact_row(contact_id: int) -> Contact:
    db.session.expire_all()
    return db.session.get(Contact, contact_id)


def delivered_programme(runner, smtp_server):
    """A case 55 days old (a check-in due) with one action due soon and one overdue."""
    case, area = programme_with_actions(date(2026, 10, 1), [date(2026, 11, 30), date(2026, 11, 10)])
    sweep(runner, london(2026, 11, 25, 10, 0))
    send(runner, london(2026, 11, 25, 10, 0))
    return case, area


def kind_of(received) -> str:
    kinds = {message_id_for(m.key): m.kind for m in db.session.scalars(select(OutboxMessage))}
    return kinds[received.message_id]


def unsubscribe_uris(received) -> list[str]:
    header = received.message["List-Unsubscribe"]
    return [part.strip().strip("<>") for part in str(header).split(",")]


def test_every_partnership_mail_carries_the_one_click_headers(app, runner, smtp_server):
    smtp_server.configure(app)
    _, area = delivered_programme(runner, smtp_server)
    contact = area.contacts[0]
    token = make_optout_token(contact.id)
    to_contact = [m for m in smtp_server.messages if contact.email in m.rcpt_tos]
    assert {kind_of(m) for m in to_contact} == PARTNERSHIP_KINDS
    for received in to_contact:
        https, mailto = unsubscribe_uris(received)
        assert https == f"{BASE}/optout/{token}/one-click"
        assert mailto.startswith("mailto:stop@example.org?subject=")
        assert unquote(mailto.partition("subject=")[2]) == f"unsubscribe {token}"
        assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_mail_to_staff_has_no_unsubscribe_header(app, runner, smtp_server):
    smtp_server.configure(app)
    _, area = delivered_programme(runner, smtp_server)
    contacts = {c.email for c in area.contacts}
    to_staff = [m for m in smtp_server.messages if not set(m.rcpt_tos) & contacts]
    assert to_staff, "the rep should have had mail too (digest or notice)"
    assert all(m.message["List-Unsubscribe"] is None for m in to_staff)


def test_a_one_click_post_opts_out_and_cancels_queued_mail(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 10, 1), [date(2026, 11, 30)])
    sweep(runner, london(2026, 11, 25, 7, 0))  # before 09:00: the partnership's mail waits
    contact_id = area.contacts[0].id
    queued = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.contact_id == contact_id)
    ).all()
    assert queued and {m.status for m in queued} == {OutboxStatus.QUEUED}
    path = urlsplit(f"/optout/{make_optout_token(contact_id)}/one-click").path

    mail_client = app.test_client()  # no session, no CSRF token: as a mail provider posts
    response = mail_client.post(path, data=ONE_CLICK_BODY)
    again = mail_client.post(path, data=ONE_CLICK_BODY)

    assert (response.status_code, again.status_code) == (200, 200)
    assert len(response.get_data()) < 64
    assert contact_row(contact_id).opted_out is True
    cancelled = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.contact_id == contact_id)
    ).all()
    assert {(m.status, m.cancelled_reason) for m in cancelled} == {
        (OutboxStatus.CANCELLED, "the contact opted out of email")
    }
    audit = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == EventKind.CONTACT_OPTED_OUT)
    ).all()
    assert len(audit) == 1  # the second POST changed nothing
    event = db.session.scalar(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.CONTACT_OPTED_OUT
        )
    )
    assert event is not None
    send(runner, london(2026, 11, 25, 10, 0))
    assert not [m for m in smtp_server.messages if area.contacts[0].email in m.rcpt_tos]


def test_get_on_the_one_click_url_shows_the_confirmation_and_changes_nothing(app, client):
    _, area = programme_with_actions(date(2026, 10, 1), [])
    contact_id = area.contacts[0].id
    html = client.get(f"/optout/{make_optout_token(contact_id)}/one-click").get_data(as_text=True)
    assert "Stop automatic emails" in html and 'name="csrf_token"' in html
    assert contact_row(contact_id).opted_out is False


def test_a_one_click_post_with_a_bad_token_changes_nothing(app):
    _, area = programme_with_actions(date(2026, 10, 1), [])
    response = app.test_client().post("/optout/not-a-token/one-click", data=ONE_CLICK_BODY)
    assert response.status_code == 400 and b"not valid" in response.get_data()
    assert contact_row(area.contacts[0].id).opted_out is False


def opted_out_contact(app):
    case, area = programme_with_actions(date(2026, 10, 1), [date(2026, 11, 30)])
    contact_id = area.contacts[0].id
    app.test_client().post(f"/optout/{make_optout_token(contact_id)}/one-click")
    assert contact_row(contact_id).opted_out is True
    return case, area, contact_id


def test_opting_back_in_needs_a_note_of_consent(app, client):
    case, area, contact_id = opted_out_contact(app)
    login_as(client, case.rep)
    url = f"/areas/{area.code}/contacts/{contact_id}/opt-in"

    response = post_form(client, url, {"consent": "   "})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "error-summary" in html and "Write how the contact agreed" in html
    assert contact_row(contact_id).opted_out is True


def test_opting_back_in_is_recorded_with_the_note_and_mail_resumes(
    app, client, runner, smtp_server
):
    smtp_server.configure(app)
    case, area, contact_id = opted_out_contact(app)
    login_as(client, case.rep)
    note = "Phoned on 24 Nov: asked to get the reminders again."

    response = post_form(
        client, f"/areas/{area.code}/contacts/{contact_id}/opt-in", {"consent": note}
    )

    assert response.status_code == 303
    contact = contact_row(contact_id)
    assert (contact.opted_out, contact.opted_out_at) == (False, None)
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == EventKind.CONTACT_OPTED_IN)
    )
    assert entry.actor_id == case.rep.id and entry.data["consent"] == note
    event = db.session.scalar(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.CONTACT_OPTED_IN
        )
    )
    assert event is not None and note in event.message
    assert note in client.get(f"/areas/{area.code}").get_data(as_text=True)
    timeline = client.get(f"/cases/{case.id}?events=contacts").get_data(as_text=True)
    assert "Contact opted back in" in timeline and note in timeline
    sweep(runner, london(2026, 12, 2, 10, 0))
    send(runner, london(2026, 12, 2, 10, 0))
    assert [m for m in smtp_server.messages if contact.email in m.rcpt_tos]


def test_the_programme_team_may_record_an_opt_back_in_too(app, client):
    _, area, contact_id = opted_out_contact(app)
    login_as(client, make_user("programme"))
    page = client.get(f"/areas/{area.code}/contacts/{contact_id}").get_data(as_text=True)
    assert "Record opt back in" in page
    response = post_form(
        client, f"/areas/{area.code}/contacts/{contact_id}/opt-in", {"consent": "By email, 1 Dec."}
    )
    assert response.status_code == 303 and contact_row(contact_id).opted_out is False


def test_a_contact_who_has_not_opted_out_cannot_be_opted_back_in(app, client):
    case, area = programme_with_actions(date(2026, 10, 1), [])
    contact_id = area.contacts[0].id
    login_as(client, case.rep)
    page = client.get(f"/areas/{area.code}/contacts/{contact_id}").get_data(as_text=True)
    assert "Record opt back in" not in page
    response = post_form(
        client, f"/areas/{area.code}/contacts/{contact_id}/opt-in", {"consent": "Asked"}
    )
    assert response.status_code == 422
    assert "has not opted out" in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact_opted_in")) is None
    )


def test_a_bad_new_address_is_refused_with_the_typed_text_kept(app, client):
    case, area = programme_with_actions(date(2026, 10, 1), [])
    contact = area.contacts[0]
    other = area.contacts[1].email
    login_as(client, case.rep)
    url = f"/areas/{area.code}/contacts/{contact.id}/email"

    bad = post_form(client, url, {"email": "chair at example"})
    taken = post_form(client, url, {"email": other.upper()})

    assert bad.status_code == taken.status_code == 422
    assert "is not a valid email address" in bad.get_data(as_text=True)
    assert 'value="chair at example"' in bad.get_data(as_text=True)
    assert f"already has the address {other}" in taken.get_data(as_text=True)
    assert contact_row(contact.id).email == contact.email
