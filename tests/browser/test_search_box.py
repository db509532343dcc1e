"""The header search box finds a note by a word in it and leads to its case."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Case
from app.operations import case_actions as ops
from tests.browser.conftest import sign_in
from tests.factories import add_snapshot, make_area, make_user

PASSWORD = "correct horse battery"


def test_search_from_the_header_finds_a_note_by_a_word_in_it(page, live_app):
    make_user("programme", email="pat@example.org", password=PASSWORD, name="Pat Programme")
    rep = make_user("rep", email="rita@example.org", password=PASSWORD, name="Rita Rep")
    area = make_area("BL088", rep=rep)
    add_snapshot(area, 6, 4, year=2025)
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    ops.add_note(case, "The chair wants a pumpkin festival to recruit members", rep, clock.now())
    db.session.commit()

    sign_in(page, "pat@example.org", PASSWORD)
    header = page.get_by_role("banner")
    header.get_by_label("Search").fill("Pumpkin")
    header.get_by_role("button", name="Search").click()

    notes = page.get_by_role("region", name="Notes")
    expect(notes).to_contain_text("pumpkin festival")
    notes.get_by_role("link", name=f"Case #{case.id} · BL088").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("BL088")
    assert f"/cases/{case.id}" in page.url
