"""The programme team imports in a real browser: a bad reviews file shows every bad row, a good
one is previewed, confirmed, and its cases open."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Area, Case
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.browser.helpers import error_response_page
from tests.cli.test_imports import REVIEW_HEADER, review_rows
from tests.factories import make_area, make_user

PASSWORD = "correct horse battery"
GOOD = REVIEW_HEADER + review_rows("BL001", 2025, 6, 4) + review_rows("BL002", 2025, 9, 6)
BAD = REVIEW_HEADER + "BL001,2025,P1,Ann,maybe,member\nBL404,2025,P2,Bob,yes,member\n"


def choose_file(page, name: str, text: str) -> None:
    page.get_by_label("Annual partnership reviews").check()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}]
    )
    page.get_by_role("button", name="Check and preview").click()


def test_programme_user_imports_reviews_from_the_browser(page, live_app, tmp_path):
    make_user("programme", email="pat@example.org", password=PASSWORD, name="Pat Programme")
    make_area("BL001")
    make_area("BL002")
    db.session.commit()
    sign_in(page, "pat@example.org", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Import a file")).to_be_visible()

    with error_response_page(page) as bad:
        bad.goto(page.url)
        choose_file(bad, "bad.csv", BAD)
        summary = bad.get_by_role("alert").filter(has_text="There is a problem")
        expect(summary).to_contain_text("The file has 2 problem(s); nothing was imported.")
        rows = bad.get_by_role("region", name="Rows to fix in the file")
        expect(rows).to_contain_text("row 2, column resident: 'maybe' is not yes/no")
        expect(rows).to_contain_text("row 3, column area_code: unknown area 'BL404'")
        screenshot(bad, "import-bad-file")

    choose_file(page, "reviews-2025.csv", GOOD)
    # The preview runs off the request; the page refreshes itself (no JavaScript) until done.
    expect(page.get_by_role("heading", name="What this file would do")).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("2 new, 0 replaced, 0 unchanged")).to_be_visible()
    expect(page.get_by_role("link", name="BL001")).to_be_visible()
    check_accessibility(page)
    db.session.rollback()
    assert db.session.scalar(select(Case.id)) is None  # a preview writes nothing
    page.get_by_role("button", name="Confirm and import").click()
    expect(page.get_by_role("heading", name="What the import did")).to_be_visible(timeout=30_000)
    db.session.rollback()
    case_id = db.session.scalar(select(Case.id).join(Area).where(Area.code == "BL001"))
    assert case_id is not None
    page.get_by_role("link", name=f"Case #{case_id}").click()
    expect(page.get_by_role("heading", name=f"Case #{case_id}")).to_be_visible()
    page.goto(page.url.split("/cases")[0] + "/imports/history")
    expect(page.get_by_role("row").filter(has_text="reviews-2025.csv")).to_contain_text("Applied")
