"""Signing in and out, remember-me, rate limits, changing passwords, set-password links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import AuditEntry, User
from app.operations.errors import UserError
from app.operations.users import (
    make_set_password_link,
    make_set_password_token,
    user_for_set_password_token,
)
from tests.factories import make_user
from tests.web.conftest import login_as, post_form

PASSWORD = "correct horse battery"
WRONG = "The email address or password is wrong."


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as in production.

    The `app` fixture keeps one app context pushed for the whole test, and a request reuses it:
    `g` (where Flask-Login caches the signed-in user) and the database session would then be
    shared by every request and every client of a test."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def rep(app):
    user = make_user("rep", email="rep@example.org", password=PASSWORD, name="Rita Rep")
    db.session.commit()
    return user


def sign_in(client, email, password, *, remember=False, next_url=None, ip="127.0.0.1"):
    url = "/sign-in" + (f"?next={next_url}" if next_url else "")
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return post_form(client, url, data, environ_base={"REMOTE_ADDR": ip})


def signed_in_as(client) -> str | None:
    """The email of the user this client's session belongs to (None when signed out)."""
    response = client.get("/account")
    if response.status_code != 200:
        return None
    match = re.search(r"<dt[^>]*>Email</dt><dd[^>]*>([^<]+)</dd>", response.get_data(as_text=True))
    return match.group(1) if match else None


def test_right_password_signs_in_and_records_the_time(client, rep):
    response = sign_in(client, "rep@example.org", PASSWORD)
    assert response.status_code == 302
    assert signed_in_as(client) == "rep@example.org"
    db.session.expire_all()
    assert db.session.get(User, rep.id).last_login_at is not None


def test_email_is_matched_without_regard_to_case_or_spaces(client, rep):
    sign_in(client, "  REP@Example.org ", PASSWORD)
    assert signed_in_as(client) == "rep@example.org"


@pytest.mark.parametrize(
    "email, password",
    [("rep@example.org", "wrong password!"), ("nobody@example.org", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_wrong_email_or_password_gets_the_same_message(client, rep, email, password):
    response = sign_in(client, email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert WRONG in html
    assert "no account" not in html.lower()
    assert signed_in_as(client) is None


def test_deactivated_user_cannot_sign_in(client, rep):
    rep.active = False
    db.session.commit()
    response = sign_in(client, "rep@example.org", PASSWORD)
    assert WRONG in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_user_without_a_password_cannot_sign_in_with_an_empty_one(client, app):
    make_user("rep", email="new@example.org")
    db.session.commit()
    response = sign_in(client, "new@example.org", "")
    assert "Enter your password." in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_next_path_on_this_site_is_followed(client, rep):
    response = sign_in(client, "rep@example.org", PASSWORD, next_url="/account")
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_to_another_site_is_ignored(client, rep, target):
    from urllib.parse import quote

    response = sign_in(client, "rep@example.org", PASSWORD, next_url=quote(target, safe=""))
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]
    assert "javascript" not in response.headers["Location"]


def test_signed_in_visitor_to_sign_in_page_goes_home(client, rep):
    login_as(client, rep)
    response = client.get("/sign-in")
    assert response.status_code == 302


def test_sign_out_is_a_post_and_ends_the_session(client, rep):
    login_as(client, rep)
    assert client.get("/sign-out").status_code == 405
    assert signed_in_as(client) == "rep@example.org"
    response = post_form(client, "/sign-out")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sign-in")
    assert signed_in_as(client) is None


# --- Rate limits ------------------------------------------------------------------------------


def test_sixth_attempt_from_one_address_is_refused_even_with_the_right_password(client, rep):
    for _ in range(5):
        response = sign_in(client, "rep@example.org", "wrong password!", ip="10.0.1.1")
        assert response.status_code == 200
    response = sign_in(client, "rep@example.org", PASSWORD, ip="10.0.1.1")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert signed_in_as(client) is None
    # A stranger's guesses from one address do not lock the owner out elsewhere.
    assert sign_in(client, "rep@example.org", PASSWORD, ip="10.0.1.2").status_code == 302


def test_account_limit_does_not_block_other_accounts(client, rep):
    make_user("rep", email="other@example.org", password=PASSWORD)
    db.session.commit()
    for _ in range(5):
        sign_in(client, "rep@example.org", "wrong password!")
    response = sign_in(client, "other@example.org", PASSWORD)
    assert response.status_code == 302


def test_successful_sign_ins_are_not_counted(client, rep):
    for _ in range(7):
        assert sign_in(client, "rep@example.org", PASSWORD).status_code == 302
        post_form(client, "/sign-out")


def test_many_failures_from_one_address_block_that_address(client, rep):
    for i in range(20):
        sign_in(client, f"guess{i}@example.org", "wrong password!", ip="10.9.9.9")
    blocked = sign_in(client, "rep@example.org", PASSWORD, ip="10.9.9.9")
    assert blocked.status_code == 429
    elsewhere = sign_in(client, "rep@example.org", PASSWORD, ip="10.9.9.10")
    assert elsewhere.status_code == 302


def test_viewing_the_sign_in_page_is_not_limited(client, rep):
    for _ in range(6):
        sign_in(client, "rep@example.org", "wrong password!")
    assert client.get("/sign-in").status_code == 200


# --- Remember me ------------------------------------------------------------------------------


def _remember_cookie(client):
    return client.get_cookie("remember_token")


def test_remember_me_cookie_is_http_only_and_signs_in_a_new_browser_session(app, client, rep):
    sign_in(client, "rep@example.org", PASSWORD, remember=True)
    cookie = _remember_cookie(client)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    other = app.test_client()
    other.set_cookie("remember_token", cookie.value)
    assert signed_in_as(other) == "rep@example.org"


def test_without_remember_me_there_is_no_remember_cookie(client, rep):
    sign_in(client, "rep@example.org", PASSWORD)
    assert _remember_cookie(client) is None


def test_password_change_kills_old_remember_cookies(app, client, rep):
    sign_in(client, "rep@example.org", PASSWORD, remember=True)
    stolen = _remember_cookie(client).value
    post_form(
        client,
        "/account",
        {
            "current_password": PASSWORD,
            "new_password": "a new long password",
            "confirm": "a new long password",
        },
    )
    other = app.test_client()
    other.set_cookie("remember_token", stolen)
    assert signed_in_as(other) is None
    # The browser that changed the password keeps a working (new) remember cookie.
    fresh = app.test_client()
    fresh.set_cookie("remember_token", _remember_cookie(client).value)
    assert signed_in_as(fresh) == "rep@example.org"


def test_deactivation_kills_remember_cookies(app, client, rep):
    sign_in(client, "rep@example.org", PASSWORD, remember=True)
    cookie = _remember_cookie(client).value
    rep.active = False
    rep.session_version += 1
    db.session.commit()
    other = app.test_client()
    other.set_cookie("remember_token", cookie)
    assert signed_in_as(other) is None


# --- Changing a password ----------------------------------------------------------------------


def change(client, current, new, confirm=None):
    return post_form(
        client,
        "/account",
        {"current_password": current, "new_password": new, "confirm": confirm or new},
    )


def test_change_password_needs_the_current_one(client, rep):
    login_as(client, rep)
    response = change(client, "not my password", "a new long password")
    html = response.get_data(as_text=True)
    assert "Your current password is wrong." in html
    assert 'href="#current_password"' in html  # the error summary links to the field
    db.session.expire_all()
    from app.operations.users import password_matches

    assert password_matches(db.session.get(User, rep.id), PASSWORD)


def test_change_password_needs_matching_confirmation_and_length(client, rep):
    login_as(client, rep)
    html = change(client, PASSWORD, "a new long password", "another one").get_data(as_text=True)
    assert "The two new passwords are not the same." in html
    html = change(client, PASSWORD, "short").get_data(as_text=True)
    assert "Use at least 10 characters." in html


def test_change_password_signs_out_other_sessions_but_not_this_one(app, client, rep):
    elsewhere = app.test_client()
    login_as(elsewhere, rep)
    login_as(client, rep)
    response = change(client, PASSWORD, "a new long password")
    assert response.status_code == 302
    assert signed_in_as(client) == "rep@example.org"
    assert signed_in_as(elsewhere) is None
    post_form(client, "/sign-out")
    assert WRONG in sign_in(client, "rep@example.org", PASSWORD).get_data(as_text=True)
    assert sign_in(client, "rep@example.org", "a new long password").status_code == 302


def test_change_password_writes_an_audit_entry(client, rep):
    login_as(client, rep)
    change(client, PASSWORD, "a new long password")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "password_changed"))
    assert entry is not None
    assert (entry.actor_id, entry.target_id) == (rep.id, rep.id)


# --- Set-password links -----------------------------------------------------------------------


def test_set_password_link_uses_base_url(app, rep):
    app.config["BASE_URL"] = "https://followup.example/"
    link = make_set_password_link(rep, clock.now())
    assert link.startswith("https://followup.example/set-password/")


def test_set_password_link_sets_the_password_once(client, app):
    user = make_user("rep", email="new@example.org")
    db.session.commit()
    token = make_set_password_token(user, clock.now())
    page = client.get(f"/set-password/{token}")
    assert page.status_code == 200 and "new@example.org" in page.get_data(as_text=True)
    response = post_form(
        client,
        f"/set-password/{token}",
        {"new_password": "my chosen password", "confirm": "my chosen password"},
    )
    assert response.status_code == 302
    assert sign_in(client, "new@example.org", "my chosen password").status_code == 302
    post_form(client, "/sign-out")
    again = client.get(f"/set-password/{token}")
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_set_password_form_checks_the_confirmation(client, app):
    user = make_user("rep", email="new@example.org")
    db.session.commit()
    token = make_set_password_token(user, clock.now())
    response = post_form(
        client, f"/set-password/{token}", {"new_password": "my chosen password", "confirm": "x"}
    )
    assert "The two new passwords are not the same." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash is None


def test_expired_link_says_so(client, app):
    user = make_user("rep", email="new@example.org")
    db.session.commit()
    token = make_set_password_token(user, clock.now() - timedelta(hours=73))
    response = client.get(f"/set-password/{token}")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_link_is_still_good_just_before_72_hours(app, now):
    user = make_user("rep")
    token = make_set_password_token(user, now)
    assert user_for_set_password_token(token, now=now + timedelta(hours=71, minutes=59)) is user
    with pytest.raises(UserError, match="expired"):
        user_for_set_password_token(token, now=now + timedelta(hours=72, minutes=1))


def test_tampered_link_is_not_valid(client, app):
    user = make_user("rep")
    db.session.commit()
    token = make_set_password_token(user, clock.now())
    response = client.get(f"/set-password/{token[:-3]}abc")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_link_for_a_deactivated_user_does_not_work(app, now):
    user = make_user("rep")
    token = make_set_password_token(user, now)
    user.active = False
    with pytest.raises(UserError, match="not valid"):
        user_for_set_password_token(token, now=now)


def test_link_dies_when_the_password_changes_another_way(app, now):
    user = make_user("rep", password=PASSWORD)
    token = make_set_password_token(user, now)
    user.session_version += 1
    with pytest.raises(UserError, match="already been used"):
        user_for_set_password_token(token, now=now)
