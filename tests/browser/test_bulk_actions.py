"""The programme team reassigns 20 cases at once; one changed meanwhile is refused."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case, OutboxMessage
from tests.browser.conftest import check_accessibility, sign_in
from tests.factories import add_snapshot, make_area, make_user

PASSWORD = "correct horse battery"


def test_bulk_reassign_of_twenty_with_one_stale(page, live_app):
    make_user("programme", email="pat@example.org", password=PASSWORD, name="Pat Programme")
    old = make_user("rep", email="olly@example.org", name="Olly Old")
    new = make_user("rep", email="nina@example.org", name="Nina New")
    for i in range(20):
        add_snapshot(make_area(f"BB{i:03d}", rep=old), 6, 4, year=2025)
    db.session.commit()

    sign_in(page, "pat@example.org", PASSWORD)
    page.goto(f"/cases?rep_id={old.id}")
    check_accessibility(page)
    boxes = page.locator('input[name="case"]')
    expect(boxes).to_have_count(20)
    for i in range(20):
        boxes.nth(i).check()
    # Someone changes one case after the list was shown.
    stale = db.session.scalars(select(Case).order_by(Case.id)).first()
    stale.status = "contacted"
    db.session.commit()
    page.get_by_label("Action", exact=True).select_option(label="Assign to a rep")
    page.get_by_label("Rep (to assign)").select_option(label="Nina New")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("19 changed, 1 refused")
    expect(page.locator("#refused")).to_contain_text(f"Case #{stale.id}")
    expect(page.get_by_role("status")).to_contain_text(
        "Nina New gets one email listing the cases now assigned to them."
    )
    db.session.rollback()
    reps = [c.rep_id for c in db.session.scalars(select(Case).order_by(Case.id))]
    assert reps[0] == old.id and set(reps[1:]) == {new.id}
    notices = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.kind, m.recipient, m.subject) for m in notices] == [
        ("new_cases", "nina@example.org", "19 cases assigned to you")
    ]
