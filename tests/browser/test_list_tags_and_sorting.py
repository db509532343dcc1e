"""The case and areas lists in a real browser: a click on a column header sorts the list (and a
second click reverses it), a chosen filter shows as a tag, and removing the tag drops it.
Screenshots at 390 and 1366 px; no sideways scrolling on a phone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.factories import add_snapshot, make_area, make_user

PASSWORD = "correct horse battery"


def _programme():
    make_user("programme", email="pat@example.org", password=PASSWORD, name="Pat Programme")
    amy = make_user("rep", name="Amy Alpha", region="South")
    zed = make_user("rep", name="Zed Zulu", region="North")
    for code, rep, members, residents in (
        ("BL002", zed, 6, 4),
        ("BL001", amy, 8, 5),
        ("BL004", None, 5, 2),
        ("BL003", amy, 7, 3),
    ):
        add_snapshot(make_area(code, rep=rep), members, residents, year=2025)
    db.session.commit()


def _area_codes(page) -> list[str]:
    return [text.split()[0] for text in page.locator("table tbody th[scope=row]").all_inner_texts()]


def test_case_list_sorts_by_header_and_drops_a_filter_by_its_tag(page, live_app):
    _programme()
    sign_in(page, "pat@example.org", PASSWORD)
    page.goto("/cases")
    page.get_by_label("Flag", exact=True).select_option(label="Under criteria")
    page.get_by_label("Rep", exact=True).select_option(label="Amy Alpha")
    page.get_by_role("button", name="Apply filters").click()
    tags = page.get_by_role("region", name="Selected filters")
    expect(tags.get_by_role("link", name="Remove this filter: Rep: Amy Alpha")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Cases \(1\)"))
    tags.get_by_role("link", name="Remove this filter: Rep: Amy Alpha").click()
    expect(page).to_have_title(re.compile(r"^Cases \(3\)"))
    expect(tags.locator(".filter-tag")).to_have_count(1)
    expect(tags.locator(".filter-tag")).to_contain_text("Flag: Under criteria")
    assert "rep_id" not in page.url and "flag=under_criteria" in page.url

    area = page.get_by_role("columnheader", name="Area")
    expect(area).to_have_attribute("aria-sort", "none")
    area.get_by_role("link").click()
    expect(page.get_by_role("columnheader", name="Area")).to_have_attribute(
        "aria-sort", "ascending"
    )
    assert _area_codes(page) == ["BL002", "BL003", "BL004"]
    page.get_by_role("columnheader", name="Area").get_by_role("link").click()
    expect(page.get_by_role("columnheader", name="Area")).to_have_attribute(
        "aria-sort", "descending"
    )
    assert _area_codes(page) == ["BL004", "BL003", "BL002"]
    assert "flag=under_criteria" in page.url  # sorting keeps the filters
    check_accessibility(page)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"width-{width}-programme-cases-tags-sorted")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # On a phone the headers are hidden; the tags still work, the sort select sorts.
    expect(page.get_by_label("Sort by")).to_have_value("-area")
    page.get_by_role("link", name="Clear filters").first.click()
    expect(page).to_have_title(re.compile(r"^Cases \(4\)"))


def test_areas_list_sorts_by_header_and_drops_a_filter_by_its_tag(page, live_app):
    _programme()
    sign_in(page, "pat@example.org", PASSWORD)
    page.goto("/areas?flag=under_criteria")
    expect(page.get_by_role("columnheader", name="Area")).to_have_attribute(
        "aria-sort", "ascending"
    )
    page.get_by_role("columnheader", name="Members / residents").get_by_role("link").click()
    expect(page.get_by_role("columnheader", name="Members / residents")).to_have_attribute(
        "aria-sort", "ascending"
    )
    assert _area_codes(page) == ["BL004", "BL002", "BL003"]
    check_accessibility(page)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"width-{width}-programme-areas-tags-sorted")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("link", name="Remove this filter: Evaluation: Under criteria").click()
    expect(page).to_have_title(re.compile(r"^Areas \(4\)"))
    assert _area_codes(page) == ["BL004", "BL002", "BL003", "BL001"]  # still by members
    expect(page.get_by_role("region", name="Selected filters")).to_have_count(0)
