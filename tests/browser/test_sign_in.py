"""Signing in and out in a real browser, with accessibility checks and screenshots."""

from __future__ import annotations

from app.extensions import db
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.factories import make_user

PASSWORD = "correct horse battery"


def test_sign_in_page_is_accessible(page):
    page.goto("/sign-in")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    check_accessibility(page)
    screenshot(page, "sign-in")


def test_rep_signs_in_and_out(page, live_app):
    make_user("rep", email="rita@example.org", password=PASSWORD, name="Rita Rep")
    db.session.commit()
    sign_in(page, "rita@example.org", PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Rita Rep").is_visible()
    assert nav.get_by_role("link", name="Users").count() == 0
    nav.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.url.endswith("/sign-in")
    assert page.get_by_text("You are signed out.").is_visible()
    page.goto("/account")
    assert "/sign-in" in page.url  # signed out for real


def test_programme_user_signs_in(page, live_app):
    make_user("programme", email="pat@example.org", password=PASSWORD, name="Pat Programme")
    db.session.commit()
    sign_in(page, "pat@example.org", PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Pat Programme").is_visible()
    page.goto("/account")
    assert page.get_by_text("Programme team").is_visible()
    check_accessibility(page)
    screenshot(page, "account")


def test_wrong_password_shows_the_error_summary(page, live_app):
    make_user("rep", email="rita@example.org", password=PASSWORD)
    db.session.commit()
    sign_in(page, "rita@example.org", "not the password")
    summary = page.get_by_role("alert")
    assert "The email address or password is wrong." in summary.inner_text()
    assert "/sign-in" in page.url
    check_accessibility(page)
    screenshot(page, "sign-in-wrong-password")


def test_missing_email_error_links_to_the_field(page, live_app):
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Enter your email address.").click()
    assert page.evaluate("document.activeElement.id") == "email"
    check_accessibility(page)
