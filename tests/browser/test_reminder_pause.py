"""A rep pauses a case's partnership reminders in a real browser, at 390 px and 1366 px: the
pause form (with its error summary), the paused summary, and the Emails tab listing the mail
the pause cancelled. Screenshots under test-output/screenshots/ (looked at by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Action, ActionPlan, Case
from app.operations.sweep import run_sweep
from tests.browser.conftest import SCREENSHOTS, check_accessibility, screenshot, sign_in
from tests.browser.helpers import detail, error_response_page, flash, london_today, shown
from tests.factories import add_snapshot, make_area, make_user

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}


def seed(email: str, code: str) -> Case:
    rep = make_user("rep", email=email, password=PASSWORD, name="Rita Rep")
    area = make_area(code, rep=rep, contacts=2)
    opened = london_today() - timedelta(days=50)  # a check-in is due
    add_snapshot(area, 6, 4, on=opened, now=datetime.combine(opened, datetime.min.time(), UTC))
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    plan = ActionPlan(case=case, barriers=["recruitment"], support=[])
    db.session.add(plan)
    plan.actions.append(
        Action(
            description="Invite two residents to the next meeting",
            owner="partnership",
            due_on=london_today() - timedelta(days=3),
        )
    )
    db.session.commit()
    run_sweep(clock.now())
    db.session.commit()
    return case


def close_up(region, name: str) -> None:
    """A screenshot of one part of the page (the full page at 390 px is too tall to read)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    region.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _fits(page) -> bool:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return width <= inner


@pytest.mark.parametrize(("viewport", "width"), [(PHONE, "390"), (LAPTOP, "1366")])
def test_a_rep_pauses_the_reminders_and_sees_the_cancelled_mail(
    browser, live_app, live_server, viewport, width
):
    case = seed(f"rita{width}@example.org", f"BLP{width[:2]}")
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, locale="en-GB", timezone_id="Europe/London"
    )
    errors: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        sign_in(page, f"rita{width}@example.org", PASSWORD)
        page.goto(f"/cases/{case.id}")
        reminders = page.get_by_role("region", name="Reminders to the partnership")
        expect(reminders).to_contain_text("due-soon, overdue and check-in emails")
        reminders.locator("summary").click()
        expect(reminders.get_by_label("Start the reminders again on")).to_be_visible()
        assert _fits(page), f"case page with the pause form scrolls sideways at {width} px"
        screenshot(page, f"pause-{width}-form")
        close_up(reminders, f"pause-{width}-form-close-up")

        until = london_today() + timedelta(days=30)
        with error_response_page(page) as form_page:
            form_page.goto(page.url)
            region = form_page.get_by_role("region", name="Reminders to the partnership")
            region.locator("summary").click()
            region.get_by_label("Start the reminders again on").fill(london_today().isoformat())
            region.get_by_label("Reason").fill("Summer break")
            region.get_by_role("button", name="Pause the reminders").click()
            summary = form_page.locator(".error-summary")
            expect(summary).to_be_focused()
            expect(summary).to_contain_text("must be after today")
            expect(form_page.get_by_label("Reason")).to_have_value("Summer break")
            assert _fits(form_page)
            screenshot(form_page, f"pause-{width}-error")
            close_up(region, f"pause-{width}-error-close-up")

        # The details are still open from the first look.
        reminders.get_by_label("Start the reminders again on").fill(until.isoformat())
        reminders.get_by_label("Reason").fill("The partnership asked for a break over the summer.")
        reminders.get_by_role("button", name="Pause the reminders").click()
        expect(flash(page, f"Partnership reminders paused until {shown(until)}.")).to_be_visible()
        summary = page.get_by_role("region", name="Summary")
        expect(detail(summary, "Reminders")).to_contain_text(f"Paused until {shown(until)}")
        expect(page.locator("#reminders-paused")).to_contain_text("asked for a break")
        timeline = page.get_by_role("region", name="Timeline")
        expect(timeline).to_contain_text(f"Partnership reminders paused until {shown(until)}")
        check_accessibility(page)
        assert _fits(page)
        screenshot(page, f"pause-{width}-paused")
        close_up(summary, f"pause-{width}-summary-close-up")
        close_up(reminders, f"pause-{width}-paused-close-up")

        timeline.get_by_role("link", name="Emails").click()
        mail = page.locator("ol.case-mail > li")
        expect(mail.first).to_be_visible()
        cancelled = page.locator("ol.case-mail > li.mail-cancelled")
        expect(cancelled.first).to_contain_text(
            f"Not sent: partnership reminders are paused until {shown(until)}"
        )
        expect(page.locator("ol.case-mail > li.mail-queued").first).to_contain_text("goes")
        check_accessibility(page)
        assert _fits(page), f"the Emails tab scrolls sideways at {width} px"
        screenshot(page, f"pause-{width}-emails")
        close_up(page.get_by_role("region", name="Timeline"), f"pause-{width}-emails-close-up")
    finally:
        context.close()
    assert not errors, errors
