"""Two-factor sign-in in a real browser: set it up from the account page (the key read off the
page, the code worked out here with pyotp, as a phone would), then sign in with a code.
Screenshots of each page at 390 and 1366 px; no page scrolls sideways on a phone."""

from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.factories import make_user

PASSWORD = "correct horse battery"
WIDTHS = {"390": {"width": 390, "height": 844}, "1366": {"width": 1366, "height": 900}}


def look_at(page, name: str) -> None:
    """Accessibility check, then a screenshot at each width, checking nothing scrolls sideways."""
    check_accessibility(page)
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert scroll <= inner, f"{name} scrolls sideways at {width} px"
        screenshot(page, f"two-factor-{name}-{width}")


def test_set_up_from_the_account_page_then_sign_in_with_a_code(page, live_app):
    make_user("rep", email="rita@example.org", password=PASSWORD, name="Rita Rep")
    db.session.commit()
    sign_in(page, "rita@example.org", PASSWORD)
    page.goto("/account")
    page.get_by_role("link", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Turn on two-factor sign-in")
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    look_at(page, "set-up")

    secret = page.locator("#secret").inner_text().replace(" ", "")
    phone = pyotp.TOTP(secret)
    page.get_by_label("Code from the app").fill("000000" if phone.now() != "000000" else "111111")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text("code is not right")
    look_at(page, "set-up-wrong-code")

    page.get_by_label("Code from the app").fill(phone.now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    codes = page.get_by_role("list", name="Recovery codes").locator("li")
    expect(codes).to_have_count(10)
    look_at(page, "recovery-codes")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "rita@example.org", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    assert page.get_by_role("navigation", name="Main").get_by_role("link").count() == 1  # brand
    look_at(page, "code")

    # The set-up code's time-step is spent: the phone's next code is accepted.
    page.get_by_label("Code").fill(phone.at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Rita Rep")).to_be_visible()
    page.goto("/account")
    expect(page.get_by_text("10 recovery codes left.")).to_be_visible()
    look_at(page, "account-on")
    page.get_by_role("link", name="Turn off two-factor sign-in…").click()
    look_at(page, "turn-off")


def test_an_admin_required_to_use_it_sets_it_up_before_anything_else(page, live_app, live_server):
    make_user("programme", email="ada@example.org", admin=True, password=PASSWORD, name="Ada")
    db.session.commit()
    live_server.app.config["ADMIN_TWO_FACTOR_REQUIRED"] = True
    try:
        sign_in(page, "ada@example.org", PASSWORD)
        expect(page.get_by_role("heading", level=1)).to_have_text("Turn on two-factor sign-in")
        expect(page.get_by_role("status")).to_contain_text("Administrators must turn on")
        nav = page.get_by_role("navigation", name="Main")
        assert nav.get_by_role("link").all_inner_texts() == ["Partnership follow-up"]
        expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
        look_at(page, "admin-required")
        page.goto("/admin/users")
        expect(page.get_by_role("heading", level=1)).to_have_text("Turn on two-factor sign-in")
        secret = page.locator("#secret").inner_text().replace(" ", "")
        page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Turn on two-factor sign-in").click()
        page.get_by_role("link", name="I have kept my codes: continue").click()
        page.goto("/admin/users")
        expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    finally:
        live_server.app.config["ADMIN_TWO_FACTOR_REQUIRED"] = False
