"""The programme team in a real browser: "a programme user reassigns and closes a case"."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.browser.helpers import detail, error_response_page, flash, london_today, shown
from tests.factories import add_snapshot, make_area, make_user

PASSWORD = "correct horse battery"
REASON = "The area has left the programme."


def seed():
    """Two reps; BL001 is Rita's with an open case, BL002 has no rep and an unassigned case."""
    make_user("programme", email="pat@example.org", password=PASSWORD, name="Pat Programme")
    rita = make_user("rep", email="rita@example.org", name="Rita Rep", region="North")
    make_user("rep", email="sam@example.org", name="Sam Rep", region="South")
    ritas = make_area("BL001", rep=rita)
    orphan = make_area("BL002", rep=None)
    add_snapshot(ritas, 6, 4, year=2025)
    add_snapshot(orphan, 9, 3, year=2025)
    db.session.commit()
    return case_of(ritas), case_of(orphan)


def case_of(area) -> int:
    return db.session.scalar(select(Case.id).where(Case.area_id == area.id))


def test_programme_user_assigns_reassigns_and_closes_cases(page, live_app):
    ritas_case, orphan_case = seed()
    sign_in(page, "pat@example.org", PASSWORD)
    nav = page.get_by_role("navigation", name="Main")

    # The unassigned queue: give BL002's case to Sam.
    nav.get_by_role("link", name="Unassigned").click()
    queue = page.get_by_role("table", name="1 open case has no rep")
    expect(queue.get_by_role("row").filter(has_text="BL002")).to_contain_text("9 / 3")
    check_accessibility(page)
    screenshot(page, "programme-flow-unassigned")
    choice = queue.get_by_label(f"Rep for case #{orphan_case} (BL002)")
    choice.select_option(label="Sam Rep · South")
    queue.get_by_role("button", name=f"Assign case #{orphan_case}").click()
    expect(flash(page, f"BL002, case #{orphan_case}: Case assigned to Sam Rep.")).to_be_visible()
    expect(page.get_by_text("Every open case has a rep.")).to_be_visible()

    # The case list: both open cases, Rita's and (now) Sam's.
    nav.get_by_role("link", name="Cases", exact=True).click()
    listing = page.get_by_role("table", name=re.compile("^Cases matching the filters"))
    expect(listing.get_by_role("row").filter(has_text="BL001")).to_contain_text("Rita Rep")
    expect(listing.get_by_role("row").filter(has_text="BL002")).to_contain_text("Sam Rep")

    # The area page: BL001 moves to Sam, and its open case with it.
    listing.get_by_role("link", name=re.compile("^BL001")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("BL001")
    page.get_by_label("Rep for BL001").select_option(label="Sam Rep · South")
    expect(page.get_by_label("Also give the area's open case to this rep")).to_be_checked()
    page.get_by_role("button", name="Save rep").click()
    expect(flash(page, "Area BL001 reassigned from Rita Rep to Sam Rep.")).to_be_visible()
    expect(flash(page, "Case reassigned from Rita Rep to Sam Rep.")).to_be_visible()
    area_cases = page.get_by_role("table", name="Cases of BL001, newest first")
    expect(area_cases.get_by_role("row").filter(has_text=f"Case #{ritas_case}")).to_contain_text(
        "Sam Rep"
    )

    # Filtering the list by rep now finds both cases under Sam.
    nav.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_label("Rep", exact=True).select_option(label="Sam Rep")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#case-count")).to_contain_text("2 cases match")

    # Close BL001's case through the confirmation step; a reason is required.
    page.get_by_role("link", name=f"Case #{ritas_case}").click()
    page.get_by_role("link", name="Close this case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Close case #{ritas_case}")
    with error_response_page(page) as form_page:
        # Without a reason the form comes back (HTTP 400) with the error summary.
        form_page.goto(page.url)
        form_page.get_by_role("button", name="Close case").click()
        summary_link = form_page.get_by_role("alert").get_by_role(
            "link", name="Give a reason for closing the case."
        )
        expect(summary_link).to_be_visible()
        expect(form_page.get_by_role("heading", level=1)).to_have_text(f"Close case #{ritas_case}")
        check_accessibility(form_page)
        screenshot(form_page, "programme-flow-close-error")
        summary_link.click()
        assert form_page.evaluate("document.activeElement.id") == "reason"
    page.get_by_label("Reason for closing").fill(REASON)
    page.get_by_role("button", name="Close case").click()

    expect(flash(page, f"BL001, case #{ritas_case} is closed.")).to_be_visible()
    summary = page.get_by_role("region", name="Summary")
    expect(detail(summary, "Status")).to_have_text("Closed")
    expect(detail(summary, "Closed")).to_have_text(f"{shown(london_today())}: {REASON}")
    expect(page.get_by_role("region", name="Status")).to_have_count(0)
    timeline = page.get_by_role("region", name="Timeline")
    reassigned = timeline.locator("li", has_text="Case reassigned from Rita Rep to Sam Rep.")
    expect(reassigned).to_contain_text("Pat Programme")
    expect(timeline.locator("li", has_text=f"Case closed: {REASON}")).to_contain_text(
        "Pat Programme"
    )
    check_accessibility(page)
    screenshot(page, "programme-flow-closed-case")

    # The closed case has left the open list but is found with the "Closed" filter.
    nav.get_by_role("link", name="Cases", exact=True).click()
    listing = page.get_by_role("table", name=re.compile("^Cases matching the filters"))
    expect(listing.get_by_role("row").filter(has_text="BL001")).to_have_count(0)
    page.get_by_label("Status").select_option(label="Closed")
    page.get_by_role("button", name="Apply filters").click()
    closed_row = listing.get_by_role("row").filter(has_text="BL001")
    expect(closed_row).to_contain_text("Closed")
    expect(closed_row).to_contain_text("Sam Rep")
