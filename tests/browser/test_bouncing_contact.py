"""A bouncing and an opted-out contact in a real browser: the area, case and contact pages at
390 and 1366 px (no sideways scrolling, axe, screenshots under test-output/screenshots/), the
rep changes the bouncing address and records an opt back in through the forms."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case, Contact
from app.operations.contacts import mark_bouncing
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.browser.helpers import error_response_page
from tests.factories import add_snapshot, make_area, make_user

PASSWORD = "correct horse battery"
WIDTHS = {"390": {"width": 390, "height": 844}, "1366": {"width": 1366, "height": 900}}
REPLY = (
    "550 5.1.1 <chair.of.a.rather.long.partnership.name@example.org>: Recipient address rejected"
)


def seed():
    rep = make_user("rep", email="rita@example.org", password=PASSWORD, name="Rita Rep")
    area = make_area("BL077", rep=rep, contacts=3)
    add_snapshot(area, 6, 4, year=2025)
    bouncing, opted_out, _ = area.contacts
    bouncing.email = "chair.of.a.rather.long.partnership.name@example.org"
    opted_out.opted_out = True
    opted_out.opted_out_at = datetime(2026, 11, 20, 12, tzinfo=UTC)
    db.session.commit()
    mark_bouncing(bouncing.id, REPLY, datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    db.session.commit()
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    return area, case, bouncing.id, opted_out.id


def test_bouncing_contact_pages_at_phone_and_laptop_width(page, live_app):
    area, case, bouncing_id, _ = seed()
    sign_in(page, "rita@example.org", PASSWORD)
    pages = {
        "area": f"/areas/{area.code}",
        "case": f"/cases/{case.id}",
        "contact": f"/areas/{area.code}/contacts/{bouncing_id}",
    }
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        for name, path in pages.items():
            page.goto(path)
            expect(page.get_by_text("bouncing", exact=False).first).to_be_visible()
            scroll, inner = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll <= inner, f"{name} at {width} px scrolls sideways"
            check_accessibility(page)
            screenshot(page, f"bouncing-contact-{width}-{name}")


def test_the_rep_changes_the_address_and_records_an_opt_back_in(page, live_app):
    area, _, bouncing_id, opted_out_id = seed()
    sign_in(page, "rita@example.org", PASSWORD)
    page.goto(f"/areas/{area.code}")
    contacts = page.get_by_role("table", name=f"Contacts of {area.code}")
    contacts.get_by_role("link", name="Change the address of").first.click()

    page.get_by_label("New email address").fill("chair@new.example.org")
    page.get_by_role("button", name="Save email address").click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text(
        "chair@new.example.org"
    )
    expect(page.get_by_text("Address bouncing", exact=True)).to_have_count(0)

    with error_response_page(page) as form_page:  # the refused form answers 422
        form_page.goto(f"/areas/{area.code}/contacts/{opted_out_id}")
        form_page.get_by_role("button", name="Record opt back in").click()
        summary = form_page.locator(".error-summary")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Write how the contact agreed")
        form_page.get_by_label("How the contact agreed").fill("Phoned on 24 Nov, asked to be back.")
        form_page.get_by_role("button", name="Record opt back in").click()
        expect(form_page.get_by_text("Phoned on 24 Nov, asked to be back.")).to_be_visible()
        screenshot(form_page, "bouncing-contact-1366-opted-back-in")

    db.session.expire_all()
    assert db.session.get(Contact, bouncing_id).bouncing_at is None
    assert db.session.get(Contact, opted_out_id).opted_out is False
