"""Forms the GOV.UK way in a real browser: after a failed submit the error summary has the
focus; long text fields count the characters left; the failed form's address reloads to its
page; the plan cannot be agreed until it is a plan."""

from __future__ import annotations

from urllib.parse import urljoin

from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, sign_in
from tests.browser.helpers import error_response_page
from tests.browser.test_rep_flow import PASSWORD, seed_case


def test_failed_submit_focuses_the_error_summary_and_keeps_the_typing(page, live_app):
    area = seed_case()
    sign_in(page, "rita@example.org", PASSWORD)
    with error_response_page(page) as other:
        other.goto(urljoin(page.url, "/my-cases"))
        other.get_by_role("link", name=f"BL042 {area.name}").click()
        contact = other.get_by_role("region", name="Record contact")
        outcome = contact.get_by_label("Outcome")
        expect(contact.get_by_text("You have 5,000 characters remaining")).to_be_visible()
        outcome.fill("Called twice, no answer yet.")
        expect(contact.get_by_text("You have 4,972 characters remaining")).to_be_visible()
        contact.get_by_label("With whom").fill("")
        contact.get_by_role("button", name="Record contact").click()
        summary = other.get_by_role("alert").filter(has_text="There is a problem")
        expect(summary).to_be_focused()
        expect(
            summary.get_by_role("link", name="Say who you were in contact with.")
        ).to_be_visible()
        expect(other.get_by_label("Outcome")).to_have_value("Called twice, no answer yet.")
        check_accessibility(other)
        # Reloading the failed form's address goes back to the case page, not a dead end.
        failed_address = other.url
        assert failed_address.endswith("/contacts")
        other.goto(failed_address)
        expect(other.get_by_role("heading", level=1)).to_contain_text(f"BL042 {area.name}")


def test_plan_cannot_be_agreed_until_it_is_a_plan(page, live_app):
    area = seed_case()
    sign_in(page, "rita@example.org", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    page.get_by_role("link", name=f"BL042 {area.name}").click()
    contact = page.get_by_role("region", name="Record contact")
    contact.get_by_label("With whom").fill("Jo Chair")
    contact.get_by_label("Outcome").fill("Agreed to meet.")
    contact.get_by_role("button", name="Record contact").click()
    case_url = page.url
    with error_response_page(page) as other:
        other.goto(case_url)
        status = other.get_by_role("region", name="Status")
        status.get_by_role("button", name="Change status to Plan agreed").click()
        summary = other.get_by_role("alert").filter(has_text="There is a problem")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text(
            "The plan can't be agreed yet: it needs at least one barrier; a target of at least"
            " 8 members; a target date in the future; at least one open action."
        )
        # An empty plan form is refused too, with its own error summary.
        other.goto(case_url.split("#")[0] + "/plan")
        other.get_by_role("button", name="Save the plan").click()
        plan_summary = other.get_by_role("alert").filter(has_text="There is a problem")
        expect(plan_summary).to_be_focused()
        expect(plan_summary).to_contain_text("The plan is empty")
