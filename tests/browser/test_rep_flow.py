"""A rep works a case end to end in a real browser: "a rep signs in, opens a case, records
contact, agrees a plan with two actions, updates the membership so the area returns within
criteria, and sees the case change"."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.browser.helpers import detail, error_response_page, flash, london_today, shown
from tests.factories import add_snapshot, make_area, make_user

PASSWORD = "correct horse battery"


def seed_case():
    rep = make_user("rep", email="rita@example.org", password=PASSWORD, name="Rita Rep")
    area = make_area("BL042", rep=rep, contacts=1)
    add_snapshot(area, 6, 4, year=2025)  # under criteria: opens a case for Rita
    db.session.commit()
    return area


def add_person(page, row: int, name: str, *, resident: bool) -> None:
    page.get_by_label(f"Name (row {row})").fill(name)
    if resident:
        page.get_by_label(f"Resident: new person {row}").check()


def test_rep_works_a_case_until_the_area_is_back_within_criteria(page, live_app):
    area = seed_case()
    today = london_today()
    sign_in(page, "rita@example.org", PASSWORD)

    # My cases lists the new case; the rep opens it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    cases = page.get_by_role("table", name="1 open case, most urgent first")
    row = cases.get_by_role("row").filter(has_text="BL042")
    expect(row).to_contain_text("Under criteria")
    expect(row).to_contain_text("6 / 4")
    expect(row).to_contain_text("New")
    row.get_by_role("link", name=f"BL042 {area.name}").click()

    summary = page.get_by_role("region", name="Summary")
    status = page.get_by_role("region", name="Status")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"BL042 {area.name}")
    expect(detail(summary, "Flag")).to_contain_text("Under criteria")
    expect(detail(summary, "Members now")).to_contain_text("6 members, 4 residents")
    expect(detail(summary, "Rep")).to_have_text("Rita Rep")
    expect(status).to_contain_text("This case is new.")
    check_accessibility(page)
    screenshot(page, "rep-flow-case-start")

    # Records contact: the first one marks the case contacted.
    contact = page.get_by_role("region", name="Record contact")
    expect(contact.get_by_label("Date of the contact")).to_have_value(today.isoformat())
    contact.get_by_label("How").select_option(label="Phone")
    contact.get_by_label("With whom").fill("Jo Chair")
    contact.get_by_label("Outcome").fill("Two residents may join; the chair will ask them.")
    contact.get_by_role("button", name="Record contact").click()
    expect(flash(page, "Contact recorded. The case is now contacted.")).to_be_visible()
    expect(status).to_contain_text("This case is contacted.")
    expect(detail(summary, "First contacted")).to_have_text(shown(today))
    expect(detail(summary, "Last contact")).to_contain_text(f"{shown(today)}, phone with Jo Chair")

    # A note about the call.
    page.get_by_label("Note", exact=True).fill("Called the chair: two residents may join.")
    page.get_by_role("button", name="Add note").click()
    expect(flash(page, "Note added.")).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline).to_contain_text("Called the chair: two residents may join.")

    # Writes the plan.
    target_on = today + timedelta(days=120)
    page.get_by_role("link", name="Write the plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Action plan for BL042 {area.name}")
    page.get_by_label("Recruitment").check()
    page.get_by_label("Resident engagement").check()
    page.get_by_label("Barriers in the partnership's words").fill("Meetings clash with work.")
    page.get_by_label("Target number of members").fill("9")
    page.get_by_label("Target date").fill(target_on.isoformat())
    page.get_by_label("Time with an expert partner").check()
    check_accessibility(page)
    page.get_by_role("button", name="Save the plan").click()
    expect(flash(page, "Plan saved.")).to_be_visible()
    plan = page.get_by_role("region", name="Action plan")
    expect(plan).to_contain_text("Recruitment, Resident engagement")
    expect(plan).to_contain_text("Meetings clash with work.")
    expect(plan).to_contain_text(f"9 members by {shown(target_on)}")
    expect(plan).to_contain_text("Time with an expert partner")
    expect(plan).to_contain_text("No actions yet.")

    # Adds two actions.
    actions = [
        ("Hold a recruitment drop-in", "Partnership", today + timedelta(days=14)),
        ("Introduce an expert partner", "Rep", today + timedelta(days=21)),
    ]
    for description, owner, due in actions:
        page.get_by_label("What needs doing").fill(description)
        page.get_by_label("Owner").select_option(label=owner)
        page.get_by_label("Due date").fill(due.isoformat())
        page.get_by_role("button", name="Add action").click()
        expect(flash(page, f"Action added: {description}")).to_be_visible()
    table = plan.get_by_role("table", name="Actions of this plan, open first")
    for description, owner, due in actions:
        action_row = table.get_by_role("row").filter(has_text=description)
        expect(action_row).to_contain_text(owner)
        expect(action_row).to_contain_text(shown(due))
        expect(action_row).to_contain_text("Open")
    expect(table.get_by_role("row")).to_have_count(3)  # header + two actions

    # Agrees the plan.
    status.get_by_role("button", name="Change status to Plan agreed").click()
    expect(flash(page, "Status changed to Plan agreed.")).to_be_visible()
    expect(status).to_contain_text("This case is plan agreed.")
    expect(detail(summary, "Plan first agreed")).to_have_text(shown(today))

    # Membership update: two people join (one resident) -> 8 members, 5 residents: at threshold,
    # so the area has returned within criteria and the case stays open.
    page.get_by_role("link", name="Update membership").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Update the membership of BL042 {area.name}"
    )
    add_person(page, 7, "Ada Resident", resident=True)
    add_person(page, 8, "Ben Worker-Neighbour", resident=False)
    check_accessibility(page)
    # The confirm step: what the new roster gives, before anything is stored.
    page.get_by_role("button", name="Check the new roster").click()
    preview = page.get_by_role("region", name="Check before you save")
    expect(preview).to_contain_text("This roster gives 8 members, 5 of them residents")
    expect(preview).to_contain_text("One member leaving would put it under criteria")
    expect(preview).to_contain_text("The area would have returned within criteria")
    check_accessibility(page)
    screenshot(page, "rep-flow-membership-check")
    page.get_by_role("button", name="Save the update").click()
    message = flash(page, "Membership updated")
    expect(message).to_contain_text("8 members, 5 residents")
    expect(message).to_contain_text("the area has returned within criteria")
    expect(detail(summary, "Flag")).to_contain_text("At threshold (exactly eight)")
    expect(detail(summary, "Members now")).to_contain_text("8 members, 5 residents")
    expect(detail(summary, "Returned within criteria")).to_have_text(shown(today))
    expect(status).to_contain_text("This case is plan agreed.")  # still open for close work

    # A second update: one more resident -> 9 members, 6 residents: within criteria, resolved.
    page.get_by_role("link", name="Update membership").click()
    expect(page.get_by_label("Name (row 8)")).to_have_value("Ben Worker-Neighbour")
    add_person(page, 9, "Cleo Resident", resident=True)
    page.get_by_role("button", name="Check the new roster").click()
    expect(page.get_by_role("region", name="Check before you save")).to_contain_text(
        "The case would be resolved"
    )
    page.get_by_role("button", name="Save the update").click()
    message = flash(page, "Membership updated")
    expect(message).to_contain_text("within criteria (9 members, 6 residents)")
    expect(message).to_contain_text("the case is resolved")
    expect(detail(summary, "Status")).to_have_text("Resolved")
    expect(detail(summary, "Resolved")).to_have_text(shown(today))
    expect(detail(summary, "Members now")).to_contain_text("9 members, 6 residents")
    expect(page.get_by_role("region", name="Status")).to_have_count(0)  # no more changes
    expect(page.get_by_role("link", name="Update membership")).to_have_count(0)
    for kind in ("Membership update", "Resolved", "Returned within criteria", "Action added"):
        expect(timeline.get_by_text(kind).first).to_be_visible()
    check_accessibility(page)
    screenshot(page, "rep-flow-case-end")

    # The case has left the rep's list.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    expect(page.get_by_text("You have no open cases.")).to_be_visible()


def test_an_action_without_a_due_date_is_sent_back_with_the_error_linked(page, live_app):
    seed_case()
    sign_in(page, "rita@example.org", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    page.get_by_role("link", name=re.compile("^BL042")).click()
    with error_response_page(page) as form_page:
        form_page.goto(page.url)
        description = form_page.get_by_label("What needs doing")
        description.fill("Hold a recruitment drop-in")
        due = form_page.get_by_label("Due date")
        form = form_page.locator("form#add-action")
        # The field is marked required, but the form leaves checking to the server (novalidate)
        # so every form reports errors the same accessible way: an error summary.
        assert due.evaluate("el => el.required && el.validity.valueMissing")
        assert form.evaluate("form => form.noValidate")
        form_page.get_by_role("button", name="Add action").click()
        summary = form_page.get_by_role("alert")
        expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
        link = summary.get_by_role("link", name=re.compile("^Due date: "))
        expect(link).to_contain_text("Give a due date.")
        expect(form_page.locator("#due_on-error")).to_have_text("Give a due date.")
        expect(due).to_have_attribute("aria-invalid", "true")
        expect(description).to_have_value("Hold a recruitment drop-in")  # what was typed is kept
        check_accessibility(form_page)
        screenshot(form_page, "rep-flow-action-error")
        link.click()
        assert form_page.evaluate("document.activeElement.id") == "due_on"
        expect(form_page.get_by_text("No actions yet.")).to_be_visible()
