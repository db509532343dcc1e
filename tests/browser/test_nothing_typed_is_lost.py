"""Nothing typed is lost, in a real browser: a note typed while someone else changes the case is
saved; a plan form refused because someone else saved the plan meanwhile comes back with what
was typed, the error summary focused, and saves on the second press."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Case
from app.operations import case_actions as ops
from tests.browser.conftest import check_accessibility, sign_in
from tests.browser.helpers import error_response_page, flash
from tests.browser.test_rep_flow import PASSWORD, seed_case
from tests.factories import make_user


def _case_of(area) -> Case:
    return db.session.scalar(select(Case).where(Case.area_id == area.id))


def test_a_note_typed_while_the_status_changes_is_saved(page, live_app):
    area = seed_case()
    boss = make_user("programme", name="Pat Programme")
    db.session.commit()
    sign_in(page, "rita@example.org", PASSWORD)
    page.goto(f"/cases/{_case_of(area).id}")
    note = page.get_by_role("region", name="Add a note")
    note.get_by_label("Note").fill("The chair is away until March; the treasurer will reply.")
    # Meanwhile the programme team moves the case on.
    ops.change_status(_case_of(area), "contacted", boss, clock.now() + timedelta(seconds=1))
    db.session.commit()
    note.get_by_role("button", name="Add note").click()
    expect(flash(page, "Note added.")).to_be_visible()
    expect(
        page.get_by_text("The chair is away until March; the treasurer will reply.")
    ).to_be_visible()
    db.session.expire_all()
    assert _case_of(area).status == "contacted"


def test_a_refused_plan_comes_back_as_typed(page, live_app):
    area = seed_case()
    boss = make_user("programme", name="Pat Programme")
    db.session.commit()
    sign_in(page, "rita@example.org", PASSWORD)
    with error_response_page(page) as other:
        other.goto(page.url.rsplit("/", 1)[0] + f"/cases/{_case_of(area).id}/plan")
        other.get_by_label("Barriers in the partnership's words").fill(
            "Two members moved away; the chair wants to step down."
        )
        other.get_by_label("Target number of members").fill("11")
        # Meanwhile the programme team saves a plan for the same case.
        ops.save_plan(
            _case_of(area),
            barriers=[],
            barriers_text="Set up by the programme team",
            target_members=9,
            target_on=None,
            support=[],
            actor=boss,
            now=clock.now(),
            expected_version=0,
        )
        db.session.commit()
        other.get_by_role("button", name="Save the plan").click()
        summary = other.get_by_role("alert").filter(has_text="There is a problem")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Someone else changed this case while you were editing")
        expect(other.get_by_label("Barriers in the partnership's words")).to_have_value(
            "Two members moved away; the chair wants to step down."
        )
        expect(other.get_by_label("Target number of members")).to_have_value("11")
        check_accessibility(other)
        # Having looked, the rep saves again: this time it is a deliberate change.
        other.get_by_role("button", name="Save the plan").click()
        expect(flash(other, "Plan saved")).to_be_visible()
    db.session.expire_all()
    plan = _case_of(area).plan
    assert plan.target_members == 11
    assert plan.barriers_text == "Two members moved away; the chair wants to step down."
