"""The mail health panels on the Outbox page and the dashboard, degraded, at 390 and 1366 px:
the warning is visible, nothing scrolls sideways, no serious accessibility problem.
Screenshots under test-output/screenshots/health-*.png (looked at by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from app.extensions import db
from app.operations.job_runs import record_run
from app.rules.vocabulary import JobName
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.factories import make_user
from tests.smtp_server import queue_message

PASSWORD = "correct horse battery"
ERROR = "SMTPRecipientsRefused: {'everyone@example.org': (554, b'5.7.1 Relay access denied')}"


def test_the_health_panels_warn_on_a_phone_and_a_laptop(page, live_app):
    now = datetime.now(UTC)  # the live server runs on the wall clock
    make_user("programme", email="pat@example.org", password=PASSWORD, name="Pat Programme")
    record_run(JobName.SWEEP, now - timedelta(minutes=40))
    record_run(JobName.SEND, now - timedelta(minutes=1), error=ERROR)
    for i in range(3):
        queue_message(f"waiting:{i}", now=now, not_before=now - timedelta(hours=2))
    db.session.commit()

    sign_in(page, "pat@example.org", PASSWORD)
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in (("outbox", "/outbox"), ("dashboard", "/dashboard")):
            page.goto(path)
            panel = page.locator(".health-panel")
            expect(panel).to_contain_text("Needs attention")
            expect(panel.get_by_role("alert")).to_contain_text(
                "Due mail has been waiting for 2 hours"
            )
            expect(panel).to_contain_text("5.7.1 Relay access denied")
            if name == "dashboard":
                expect(page.locator("#health-warning")).to_be_visible()
            scroll, inner = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll <= inner, f"{name} at {width} px scrolls sideways"
            check_accessibility(page)
            screenshot(page, f"health-{name}-{width}")
