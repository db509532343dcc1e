"""A rep opens the area of a case just assigned to them from the unassigned queue."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from tests.browser.conftest import sign_in
from tests.factories import add_snapshot, make_area, make_user

PASSWORD = "correct horse battery"


def test_rep_opens_the_area_of_a_case_just_assigned_to_them(page, live_app):
    make_user("programme", email="pat@example.org", password=PASSWORD, name="Pat Programme")
    make_user("rep", email="rita@example.org", password=PASSWORD, name="Rita Rep")
    orphan = make_area("BL077", rep=None)
    add_snapshot(orphan, 6, 4, year=2025)
    db.session.commit()
    case_id = db.session.scalar(select(Case.id).where(Case.area_id == orphan.id))

    sign_in(page, "pat@example.org", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Unassigned").click()
    page.get_by_label(f"Rep for case #{case_id} (BL077)").select_option(label="Rita Rep")
    page.get_by_role("button", name=f"Assign case #{case_id}").click()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "rita@example.org", PASSWORD)
    page.get_by_role("link", name="BL077").first.click()
    page.get_by_role("region", name="Summary").get_by_role(
        "link", name=f"BL077 {orphan.name}"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("BL077")
    assert "/areas/BL077" in page.url
