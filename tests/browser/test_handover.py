"""An admin deactivates a rep and hands their areas and open cases to a successor."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from tests.browser.conftest import check_accessibility, sign_in
from tests.browser.helpers import error_response_page
from tests.factories import add_snapshot, make_area, make_user

PASSWORD = "correct horse battery"


def test_admin_deactivates_a_rep_with_handover(page, live_app):
    make_user("programme", email="ada@example.org", password=PASSWORD, name="Ada Admin", admin=True)
    leaving = make_user("rep", email="lee@example.org", name="Lee Leaving")
    successor = make_user("rep", email="sue@example.org", name="Sue Successor")
    for _ in range(2):
        add_snapshot(make_area(rep=leaving), 6, 4, year=2025)
    db.session.commit()

    sign_in(page, "ada@example.org", PASSWORD)
    with error_response_page(page) as form_page:
        form_page.goto(f"/admin/users/{leaving.id}/deactivate")
        expect(form_page.get_by_role("status")).to_contain_text("2 areas and has 2 open cases")
        form_page.get_by_role("button", name="Yes, deactivate Lee Leaving").click()
        expect(form_page.get_by_role("alert")).to_contain_text("Choose who takes over")
    page.goto(f"/admin/users/{leaving.id}/deactivate")
    check_accessibility(page)
    page.get_by_label("Who takes over").select_option(label="Sue Successor")
    page.get_by_role("button", name="Yes, deactivate Lee Leaving").click()
    expect(page.get_by_role("status").filter(has_text="moved to")).to_contain_text(
        "2 areas and 2 open cases moved to Sue Successor. Sue Successor gets one email"
        " listing them."
    )
    db.session.rollback()
    assert set(db.session.scalars(select(Case.rep_id))) == {successor.id}
