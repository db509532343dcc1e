"""Sign-in limits that hold under concurrency and across workers; sessions that sign-out ends."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.models import UserSession
from tests.conftest import _config_for
from tests.factories import make_user
from tests.web.conftest import csrf_token, post_form
from tests.web.http import Browser, gunicorn_server
from tests.web.test_auth import PASSWORD, IsolatedClient, sign_in, signed_in_as

TOO_MANY = "Too many failed sign-in attempts"
WRONG = "The email address or password is wrong."


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def rep(app):
    user = make_user("rep", email="rep@example.org", password=PASSWORD, name="Rita Rep")
    db.session.commit()
    return user


# --- Limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"SIGN_IN_LIMIT_PER_ACCOUNT": "7 per hour"}])
def test_account_limit_from_all_addresses(client, rep, app_config):
    outcomes = [
        sign_in(client, "rep@example.org", "wrong password!", ip=f"10.0.2.{i}").status_code
        for i in range(9)
    ]
    assert outcomes == [200] * 7 + [429] * 2


def test_a_json_body_is_refused(client, rep):
    # With a valid CSRF token in its header, so only the body's type is wrong.
    response = client.post(
        "/sign-in",
        json={"email": "rep@example.org", "password": PASSWORD},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 415
    assert signed_in_as(client) is None


def _served(migrated):
    """This test's database behind a real threaded HTTP server on a free port."""
    app = create_app(_config_for(migrated))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _guess_many(base: str, count: int) -> list[str]:
    browsers = [Browser(base) for _ in range(count)]
    for browser in browsers:
        browser.open_sign_in()

    def guess(browser: Browser) -> str:
        status, html = browser.sign_in("rep@example.org", "wrong password!")
        if status == 429 and TOO_MANY in html:
            return "refused"
        if status == 200 and WRONG in html:
            return "checked"
        return f"unexpected {status}"

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(guess, browsers))


def test_forty_concurrent_wrong_passwords_check_at_most_five(app, migrated, rep):
    server, base = _served(migrated)
    try:
        outcomes = _guess_many(base, 40)
    finally:
        server.shutdown()
    assert outcomes.count("checked") == 5
    assert outcomes.count("refused") == 35


def test_limit_holds_across_two_gunicorn_workers(app, migrated, rep):
    with gunicorn_server(migrated, workers=2) as base:
        outcomes = _guess_many(base, 40)
    assert outcomes.count("checked") == 5
    assert outcomes.count("refused") == 35


@pytest.mark.parametrize("app_config", [{"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}])
def test_limits_can_live_in_redis(client, rep, app_config):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(app_config["RATELIMIT_STORAGE_URI"]).flushdb()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    outcomes = [
        sign_in(client, "rep@example.org", "wrong password!", ip="10.0.3.1").status_code
        for _ in range(6)
    ]
    assert outcomes == [200] * 5 + [429]
    assert (
        db.session.scalar(select(func.count()).select_from(db.metadata.tables["sign_in_counts"]))
        == 0
    )


# --- Sessions ---------------------------------------------------------------------------------


def test_sign_out_ends_a_copied_session_cookie(app, client, rep):
    sign_in(client, "rep@example.org", PASSWORD)
    copied = client.get_cookie("session").value
    post_form(client, "/sign-out")
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert signed_in_as(thief) is None


def test_remember_token_is_new_at_each_sign_in(client, rep):
    sign_in(client, "rep@example.org", PASSWORD, remember=True)
    first = client.get_cookie("remember_token").value
    post_form(client, "/sign-out")
    sign_in(client, "rep@example.org", PASSWORD, remember=True)
    assert client.get_cookie("remember_token").value != first


def test_remember_cookie_expires_on_the_server(app, client, rep):
    sign_in(client, "rep@example.org", PASSWORD, remember=True)
    cookie = client.get_cookie("remember_token").value
    (row,) = db.session.scalars(select(UserSession)).all()
    duration = timedelta(seconds=app.config["REMEMBER_COOKIE_DURATION"])
    assert row.expires_at - row.created_at == duration
    fresh = app.test_client()
    fresh.set_cookie("remember_token", cookie)
    assert signed_in_as(fresh) == "rep@example.org"
    db.session.execute(update(UserSession).values(expires_at=row.created_at))
    db.session.commit()
    later = app.test_client()
    later.set_cookie("remember_token", cookie)
    assert signed_in_as(later) is None


def test_sign_out_everywhere_ends_every_session(app, client, rep):
    sign_in(client, "rep@example.org", PASSWORD)
    laptop = app.test_client()
    sign_in(laptop, "rep@example.org", PASSWORD, remember=True)
    remembered = laptop.get_cookie("remember_token").value
    page = client.get("/account").get_data(as_text=True)
    assert "Sign out everywhere" in page
    response = post_form(client, "/sign-out-everywhere")
    assert response.status_code == 302
    assert signed_in_as(client) is None
    assert signed_in_as(laptop) is None
    stolen = app.test_client()
    stolen.set_cookie("remember_token", remembered)
    assert signed_in_as(stolen) is None


def test_sign_out_through_gunicorn_ends_the_session_on_every_worker(app, migrated, rep):
    with gunicorn_server(migrated, workers=2) as base:
        browser = Browser(base)
        browser.open_sign_in()
        status, _ = browser.sign_in("rep@example.org", PASSWORD)
        assert status == 302
        copy = browser.copy()
        # Several requests, so both workers serve the copied cookie.
        assert all(copy.account_email() == "rep@example.org" for _ in range(6))
        browser.sign_out()
        assert all(copy.account_email() is None for _ in range(6))
