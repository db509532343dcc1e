"""The README's "A walk through the demo", step by step as written, on the demo programme."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.demo.loader import PROGRAMME_EMAIL
from tests.browser.helpers import flash, london_today
from tests.browser.test_main_pages import demo, open_page  # noqa: F401  (module fixtures)

pytestmark = pytest.mark.browser


def test_the_rep_walkthrough(open_page, demo):  # noqa: F811
    page = open_page(demo.rep_email)
    today = london_today()
    # 1. My cases: a new case, and what would bring each area back.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    new_row = page.locator("tbody tr").filter(has_text="New: not yet contacted").first
    expect(new_row).to_be_visible()
    expect(page.locator("tbody")).to_contain_text(
        re.compile(r"Needs \d+ more member|One member leaving would put it under criteria")
    )
    # 2. Record contact on the new case.
    new_row.locator("th a").click()
    contact = page.get_by_role("region", name="Record contact")
    contact.get_by_label("How").select_option(label="Meeting")
    contact.get_by_label("With whom").fill("The chair")
    contact.get_by_label("Outcome").fill("Agreed to recruit from the tenants' association.")
    contact.get_by_role("button", name="Record contact").click()
    expect(flash(page, "Contact recorded. The case is now contacted.")).to_be_visible()
    summary = page.get_by_role("region", name="Summary")
    expect(summary).to_contain_text("meeting with The chair")
    # 3. Write the plan, add an action, agree the plan.
    page.get_by_role("link", name=re.compile("^(Write|Edit) the plan$")).click()
    page.get_by_label("Recruitment").check()
    page.get_by_label("Target number of members").fill("9")
    page.get_by_label("Target date").fill((today + timedelta(days=90)).isoformat())
    page.get_by_role("button", name="Save the plan").click()
    expect(flash(page, "Plan saved.")).to_be_visible()
    page.get_by_label("What needs doing").fill("Hold an open evening for residents")
    page.get_by_label("Due date").fill((today + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Add action").click()
    expect(flash(page, "Action added")).to_be_visible()
    status = page.get_by_role("region", name="Status")
    status.get_by_role("button", name="Change status to Plan agreed").click()
    expect(flash(page, "Status changed to Plan agreed.")).to_be_visible()
    # 4. Update membership (check, then save) until the case is resolved.
    case_url = page.url.split("#")[0]
    for _round in range(6):
        page.goto(case_url)
        if (
            page.get_by_text("This case is resolved").count()
            or not page.get_by_role("link", name="Update membership").count()
        ):
            break
        page.get_by_role("link", name="Update membership").click()
        blanks = page.locator("input[name$='-name']").filter(has_not=page.locator("[value]"))
        count = 0
        for field in page.locator("input[name$='-name']").all():
            if not field.input_value() and count < 3:
                field.fill(f"New resident {_round}{count}")
                row = field.locator("xpath=ancestor::tr")
                row.get_by_label(re.compile("^Resident")).check()
                count += 1
        assert blanks is not None and count
        page.get_by_role("button", name="Check the new roster").click()
        expect(page.get_by_role("region", name="Check before you save")).to_contain_text(
            "This roster gives"
        )
        page.get_by_role("button", name="Save the update").click()
        expect(flash(page, "Membership updated")).to_be_visible()
    expect(page.get_by_role("region", name="Summary")).to_contain_text("Resolved")
    # 5. Print for the partnership, and Due soon.
    page.get_by_role("link", name="Print for the partnership").click()
    expect(page.get_by_role("heading", name="Where the partnership stands")).to_be_visible()
    page.get_by_role("link", name="Back to the case").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Due soon").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Due soon")


def test_the_programme_walkthrough(open_page, demo):  # noqa: F811
    page = open_page(PROGRAMME_EMAIL)
    nav = page.get_by_role("navigation", name="Main")
    # 1. The dashboard's headline figures and the quarterly chart.
    nav.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_text("open cases", exact=True)).to_be_visible()
    expect(
        page.get_by_role("heading", name="Cases open at the end of each quarter, by flag")
    ).to_be_visible()
    # 2. The unassigned queue has cases; assign one from its case page.
    nav.get_by_role("link", name="Unassigned").click()
    queue = page.get_by_role("table", name=re.compile("no rep$"))
    queue.locator("tbody tr").first.get_by_role("link", name=re.compile(r"^Case #")).click()
    page.get_by_label("Reassign to").select_option(index=1)
    page.get_by_role("button", name="Reassign").click()
    expect(flash(page, "Assigned to")).to_be_visible()
    # 3. Insights over the 2021 summary's years.
    nav.get_by_role("link", name="Insights").click()
    page.get_by_label("From review year").select_option("2015")
    page.get_by_label("To review year").select_option("2021")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("1,506 members in 2021, up from 1,455 in 2020")).to_be_visible()
