"""Every main page at 390 px wide, as a rep and as the programme team: no sideways scrolling of
the page. Screenshots at 390 and 1366 px under test-output/screenshots/ (looked at by hand).
Also: the status sheet prints on one page, and the 'Due soon' page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.demo.loader import ADMIN_EMAIL, PROGRAMME_EMAIL
from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_main_pages import demo, open_page  # noqa: F401  (module fixtures)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}

REP_PAGES = [
    ("my-cases", "/my-cases"),
    ("due-soon", "/due-soon"),
    ("case", "/cases/{case_id}"),
    ("case-plan", "/cases/{case_id}/plan"),
    ("case-membership", "/cases/{case_id}/membership"),
    ("case-sheet", "/cases/{case_id}/sheet"),
    ("my-areas", "/areas"),
    ("account", "/account"),
    ("search", "/search?q=e"),
]
PROGRAMME_PAGES = [
    ("dashboard", "/dashboard"),
    ("cases", "/cases"),
    ("unassigned", "/cases/unassigned"),
    ("areas", "/areas"),
    ("area", "/areas/{area_code}"),
    ("insights", "/insights"),
    ("outbox", "/outbox"),
    ("due-soon", "/due-soon"),
    ("case", "/cases/{case_id}"),
    ("close", "/cases/{case_id}/close"),
    ("search", "/search?q=e"),
]
ADMIN_PAGES = [("users", "/admin/users"), ("new-user", "/admin/users/new")]


def _fits(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def _visit_all(open_page, demo, email, pages, who):  # noqa: F811
    for viewport, width_name in ((PHONE, "390"), (LAPTOP, "1366")):
        page = open_page(email, viewport)
        for name, path in pages:
            page.goto(path.format(case_id=demo.case_id, area_code=demo.area_code))
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            scroll_width, inner_width = _fits(page)
            assert scroll_width <= inner_width, f"{who} {name} at {width_name} px scrolls sideways"
            screenshot(page, f"width-{width_name}-{who}-{name}")


def test_rep_pages_fit_a_phone(open_page, demo):  # noqa: F811
    _visit_all(open_page, demo, demo.rep_email, REP_PAGES, "rep")


def test_programme_pages_fit_a_phone(open_page, demo):  # noqa: F811
    _visit_all(open_page, demo, PROGRAMME_EMAIL, PROGRAMME_PAGES, "programme")
    _visit_all(open_page, demo, ADMIN_EMAIL, ADMIN_PAGES, "admin")


def test_a_pasted_url_wraps_instead_of_widening_the_page(open_page, demo):  # noqa: F811
    page = open_page(demo.rep_email, PHONE)
    page.goto(f"/cases/{demo.case_id}")
    long_url = "https://example.org/" + "a-very-long-path-segment" * 12
    page.get_by_label("Note", exact=True).fill(long_url)
    page.get_by_role("button", name=re.compile("^Add (the )?note")).click()
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("a-very-long-path")
    scroll_width, inner_width = _fits(page)
    assert scroll_width <= inner_width


def test_status_sheet_prints_on_one_page(open_page, demo):  # noqa: F811
    page = open_page(demo.rep_email, LAPTOP)
    page.goto(f"/cases/{demo.case_id}")
    page.get_by_role("link", name="Print for the partnership").click()
    expect(
        page.get_by_role("heading", level=2, name="Where the partnership stands")
    ).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    check_accessibility(page)
    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="Back to the case")).to_be_hidden()
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the status sheet printed on {pages} pages"


def test_due_soon_lists_overdue_first(open_page, demo):  # noqa: F811
    page = open_page(demo.rep_email, LAPTOP)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Due soon").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Due soon")
    check_accessibility(page)
    rows = page.locator("tbody tr")
    if rows.count():
        firsts = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
        overdue = [text.startswith("Overdue") for text in firsts]
        assert overdue == sorted(overdue, reverse=True), "overdue actions come first"
    else:
        expect(page.get_by_text("Nothing is due in the next 14 days")).to_be_visible()
