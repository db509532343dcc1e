"""Issue 14's "done when": a partnership answers its check-in through the personal link.

The sweep queues a check-in; the sender delivers it to the test SMTP server; the contact
opens the link from the received mail and proposes a roster taking the area from 7 to 9
members; the rep accepts; the case is resolved; the contact receives the confirmation; the
timeline shows each step. Screenshots of the page at 390 and 1366 px, axe on every page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case, Contact, OutboxMessage
from app.operations.outbox import send_all_due
from app.operations.sweep import run_sweep
from app.rules.calendar import next_send_time
from app.rules.vocabulary import ReminderKind
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.browser.helpers import flash
from tests.factories import add_snapshot, agreeable_plan, make_area, make_user
from tests.smtp_server import smtp_server_fixture  # noqa: F401

PASSWORD = "correct horse battery"
CONTACT_EMAIL = "jo.chair@example.org"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def seed():
    rep = make_user("rep", email="rita@example.org", password=PASSWORD, name="Rita Rep")
    area = make_area("BL014", rep=rep, contacts=0)
    area.name = "Riverside"
    area.contacts.append(Contact(name="Jo Chair", email=CONTACT_EMAIL))
    add_snapshot(area, 7, 5, year=2025)  # 7 members: under criteria, a case opens
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    agreeable_plan(case, rep, datetime.now(UTC))
    db.session.commit()
    return area, case


def received_by(smtp_server, address: str) -> list:
    return [m for m in smtp_server.messages if address in m.rcpt_tos]


def text_of(received) -> str:
    return received.message.get_body(("plain",)).get_content()


def send_mail(later: datetime) -> None:
    db.session.commit()
    send_all_due(later, worker="journey")
    db.session.commit()


def test_a_partnership_answers_its_check_in_and_the_rep_accepts(
    page, browser, live_app, live_server, smtp_server
):
    app = live_app
    area, case = seed()
    smtp_server.configure(app)
    app.config["BASE_URL"] = live_server.url
    now = datetime.now(UTC)
    later = next_send_time(now) + timedelta(minutes=1)  # the partnerships' sending window

    # The sweep queues a check-in for the contact; the sender delivers it.
    summary = run_sweep(now)
    db.session.commit()
    assert summary.enqueued[ReminderKind.CHECKIN] == 1
    send_mail(later)
    (checkin,) = [
        m for m in received_by(smtp_server, CONTACT_EMAIL) if "membership" in m.message["Subject"]
    ]
    link = re.search(r"(http://\S+/partnership/\S+)", text_of(checkin)).group(1)

    # The contact opens the link from the mail: where the partnership stands, on a phone.
    page.set_viewport_size(PHONE)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Riverside Big Local partnership")
    stands = page.get_by_role("region", name="Where the partnership stands")
    expect(stands).to_contain_text("7 members, 5 of them residents: under criteria")
    expect(stands).to_contain_text("What would bring it back")
    expect(page.get_by_role("region", name="Your rep")).to_contain_text("Rita Rep")
    expect(page.get_by_role("table")).to_contain_text("Person 6")
    expect(page.get_by_role("region", name="Your partnership's actions")).to_contain_text(
        "Invite two residents"
    )
    check_accessibility(page)
    screenshot(page, "partnership-page-390")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "partnership-page-1366")

    # Proposes a roster of 9: two new people, one of them a resident; checks, then sends.
    page.get_by_role("link", name="Update the membership").click()
    new = page.get_by_role("group", name="New person")
    new.nth(0).get_by_label("Name").fill("Nia Newcomer")
    new.nth(0).get_by_label("Lives in the area").check()
    new.nth(1).get_by_label("Name").fill("Sam Second")
    check_accessibility(page)
    page.get_by_role("button", name="Check the new roster").click()
    preview = page.get_by_role("region", name="Check before you send")
    expect(preview).to_contain_text("9 members, 6 of them residents: within criteria")
    expect(preview).to_contain_text("the case is resolved")
    page.set_viewport_size(PHONE)
    screenshot(page, "partnership-membership-check-390")
    check_accessibility(page)
    preview.get_by_role("button", name="Send to your rep").click()
    expect(flash(page, "Thank you: your rep has been told")).to_be_visible()
    expect(page.get_by_role("region", name="Waiting for your rep")).to_contain_text(
        "A membership update, sent by Jo Chair"
    )

    # The rep sees the proposal as a diff with its evaluation, and accepts it.
    rep_context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    rep_page = rep_context.new_page()
    try:
        sign_in(rep_page, "rita@example.org", PASSWORD)
        rep_page.goto(f"/cases/{case.id}")
        answers = rep_page.get_by_role("region", name="From the partnership")
        expect(answers).to_contain_text("Membership update from Jo Chair")
        expect(answers).to_contain_text("Joins: Nia Newcomer")
        expect(answers).to_contain_text("9 members, 6 of them residents")
        expect(answers).to_contain_text("Accepting it resolves the case")
        check_accessibility(rep_page)
        screenshot(rep_page, "case-page-partnership-answer")
        answers.get_by_role("button", name="Accept the update").click()
        expect(flash(rep_page, "the case is resolved")).to_be_visible()

        # The contact gets the confirmation (and the rep's decision); the case is resolved.
        send_mail(later + timedelta(minutes=5))
        subjects = [m.message["Subject"] for m in received_by(smtp_server, CONTACT_EMAIL)]
        assert any(s.startswith("We have your membership update") for s in subjects), subjects
        assert any(s.startswith("Your rep accepted your membership update") for s in subjects)
        db.session.expire_all()
        assert db.session.get(Case, case.id).status == "resolved"
        rep_notice = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == ReminderKind.ANSWER_NOTICE)
        )
        assert rep_notice.recipient == "rita@example.org"

        # The timeline shows each step.
        rep_page.reload()
        timeline = rep_page.get_by_role("region", name="Timeline")
        expect(timeline).to_contain_text(f"Email sent to {CONTACT_EMAIL}: How is your partnership")
        expect(timeline).to_contain_text("Membership update from Jo Chair: 9 members")
        expect(timeline).to_contain_text("Membership updated (proposed by Jo Chair")
        expect(timeline).to_contain_text("the case is resolved")
        expect(timeline).to_contain_text(f"Email sent to {CONTACT_EMAIL}: We have your membership")
        expect(timeline).to_contain_text("from Jo Chair")
    finally:
        rep_context.close()

    # The link still opens, and now says politely there is nothing to answer.
    page.goto(link)
    expect(page.get_by_role("heading", name="Nothing to answer at the moment")).to_be_visible()
    expect(page.get_by_text("Rita Rep")).to_be_visible()
    check_accessibility(page)
