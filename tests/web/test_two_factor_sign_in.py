"""Two-factor sign-in on the web: the code step (nobody signed in before it), codes used once,
the sign-in limits covering it, setting it up and turning it off, an administrator's reset,
and administrators required to set it up first (ADMIN_TWO_FACTOR_REQUIRED)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, User
from app.operations.two_factor import WRONG_CODE
from app.rules.vocabulary import AuditAction
from tests.factories import NOW, code_for, enable_two_factor, make_user
from tests.web.conftest import login_as, post_form
from tests.web.http import Browser, gunicorn_server
from tests.web.test_auth import PASSWORD, IsolatedClient, sign_in, signed_in_as

LATER = NOW + timedelta(minutes=1)  # enrolment spent NOW's code
TOO_MANY = "Too many failed sign-in attempts"
REQUIRED = {"ADMIN_TWO_FACTOR_REQUIRED": True}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def at_later(freeze_clock):
    return freeze_clock(LATER)


@pytest.fixture
def rep(app, at_later):
    user = make_user("rep", email="rep@example.org", password=PASSWORD, name="Rita Rep")
    user.recovery_codes = enable_two_factor(user, NOW)
    return user


def enter_code(client, code: str, ip: str = "127.0.0.1"):
    return post_form(client, "/sign-in/code", {"code": code}, environ_base={"REMOTE_ADDR": ip})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- The code step ----------------------------------------------------------------------------


def test_the_right_password_alone_does_not_sign_in(client, rep):
    response = sign_in(client, "rep@example.org", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in/code"
    assert signed_in_as(client) is None
    page = client.get("/sign-in/code").get_data(as_text=True)
    assert "Enter your code" in page and 'autocomplete="one-time-code"' in page


def test_the_right_code_then_signs_in_and_follows_next(client, rep):
    sign_in(client, "rep@example.org", PASSWORD, next_url="/account")
    response = enter_code(client, code_for(rep, LATER))
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert signed_in_as(client) == "rep@example.org"
    db.session.expire_all()
    assert db.session.get(User, rep.id).last_login_at == LATER


def test_a_wrong_code_is_refused_with_a_message_and_no_session(client, rep):
    sign_in(client, "rep@example.org", PASSWORD)
    response = enter_code(client, wrong(code_for(rep, LATER)))
    assert response.status_code == 200
    assert WRONG_CODE in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_without_a_right_password_first_the_code_page_sends_you_to_sign_in(client, rep):
    response = enter_code(client, code_for(rep, LATER))
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert signed_in_as(client) is None


def test_the_code_step_expires_after_five_minutes(client, rep, freeze_clock):
    sign_in(client, "rep@example.org", PASSWORD)
    moment = freeze_clock(LATER + timedelta(minutes=5, seconds=1))
    response = enter_code(client, code_for(rep, moment))
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert signed_in_as(client) is None


def test_a_tampered_pending_note_is_not_accepted(client, rep):
    sign_in(client, "rep@example.org", PASSWORD)
    with client.session_transaction() as sess:
        note = sess["two_factor_pending"]
        sess["two_factor_pending"] = note[:-2] + ("AA" if not note.endswith("AA") else "BB")
    response = enter_code(client, code_for(rep, LATER))
    assert response.headers["Location"] == "/sign-in"


def test_a_password_change_between_the_steps_ends_the_code_step(client, rep):
    sign_in(client, "rep@example.org", PASSWORD)
    user = db.session.get(User, rep.id)
    user.session_version += 1  # what a password change or deactivation does
    db.session.commit()
    response = enter_code(client, code_for(rep, LATER))
    assert response.headers["Location"] == "/sign-in"
    assert signed_in_as(client) is None


def test_a_used_code_cannot_sign_in_again_within_its_window(client, rep):
    code = code_for(rep, LATER)
    sign_in(client, "rep@example.org", PASSWORD)
    assert enter_code(client, code).status_code == 302
    post_form(client, "/sign-out")
    sign_in(client, "rep@example.org", PASSWORD)
    again = enter_code(client, code)
    assert WRONG_CODE in again.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_recovery_code_signs_in_once(client, rep):
    first = rep.recovery_codes[0]
    sign_in(client, "rep@example.org", PASSWORD)
    response = enter_code(client, first)
    assert response.status_code == 302
    assert "9 left" in client.get("/account").get_data(as_text=True)
    post_form(client, "/sign-out")
    sign_in(client, "rep@example.org", PASSWORD)
    assert WRONG_CODE in enter_code(client, first).get_data(as_text=True)
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == AuditAction.RECOVERY_CODE_USED and entry.target_id == rep.id


# --- Limits cover the code step ---------------------------------------------------------------


def test_wrong_codes_count_against_the_account_and_address(client, rep):
    assert sign_in(client, "rep@example.org", PASSWORD, ip="10.0.5.1").status_code == 302
    for _ in range(4):  # the password was the first of five attempts
        assert enter_code(client, wrong(code_for(rep, LATER)), ip="10.0.5.1").status_code == 200
    blocked = enter_code(client, code_for(rep, LATER), ip="10.0.5.1")
    assert blocked.status_code == 429 and TOO_MANY in blocked.get_data(as_text=True)
    assert signed_in_as(client) is None
    # The right password again does not start the count again.
    assert sign_in(client, "rep@example.org", PASSWORD, ip="10.0.5.1").status_code == 429
    # The owner, elsewhere, still gets in.
    other = IsolatedClient(client.application)
    sign_in(other, "rep@example.org", PASSWORD, ip="10.0.5.2")
    assert enter_code(other, code_for(rep, LATER), ip="10.0.5.2").status_code == 302


@pytest.mark.parametrize("app_config", [{"SIGN_IN_LIMIT_PER_ACCOUNT": "4 per hour"}])
def test_wrong_codes_from_many_addresses_count_against_the_account(client, rep, app_config):
    sign_in(client, "rep@example.org", PASSWORD, ip="10.0.6.1")
    outcomes = [
        enter_code(client, wrong(code_for(rep, LATER)), ip=f"10.0.6.{i}").status_code
        for i in range(2, 6)
    ]
    assert outcomes == [200, 200, 200, 429]


@pytest.mark.parametrize("app_config", [{"SIGN_IN_LIMIT_PER_ADDRESS": "3 per 15 minutes"}])
def test_wrong_codes_count_against_the_address(client, rep, app_config):
    make_user("rep", email="other@example.org", password=PASSWORD)
    db.session.commit()
    sign_in(client, "rep@example.org", PASSWORD, ip="10.0.7.1")
    enter_code(client, wrong(code_for(rep, LATER)), ip="10.0.7.1")
    enter_code(client, wrong(code_for(rep, LATER)), ip="10.0.7.1")
    assert sign_in(client, "other@example.org", PASSWORD, ip="10.0.7.1").status_code == 429


def test_concurrent_wrong_codes_through_two_gunicorn_workers_check_at_most_the_limit(app, migrated):
    # A real clock here: gunicorn runs in its own processes.
    user = make_user("rep", email="rep@example.org", password=PASSWORD)
    from app import clock

    enable_two_factor(user, clock.now())
    secret = user.totp_secret
    with gunicorn_server(migrated, workers=2) as base:
        first = Browser(base)
        first.open_sign_in()
        assert first.sign_in("rep@example.org", PASSWORD)[0] == 302
        first.request("/sign-in/code")
        thieves = [first.copy() for _ in range(30)]
        for thief in thieves:
            thief.token = first.token
        right = pyotp.TOTP(secret).now()

        def guess(browser: Browser) -> int:
            return browser.request(
                "/sign-in/code", {"code": wrong(right), "csrf_token": browser.token}
            )[0]

        with ThreadPoolExecutor(max_workers=30) as pool:
            outcomes = list(pool.map(guess, thieves))
    # Five attempts per account and address in the window, the password being the first.
    assert outcomes.count(200) == 4
    assert outcomes.count(429) == 26


# --- Setting up and turning off ----------------------------------------------------------------


def secret_on(page: str) -> str:
    match = re.search(r'<code class="app-secret" id="secret">([A-Z2-7 ]+)</code>', page)
    assert match, "the set-up page shows the key in text"
    return match.group(1).replace(" ", "")


def set_up(client, moment) -> str:
    """Set up two-factor sign-in through the pages; returns the recovery-codes page."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    code = pyotp.TOTP(secret_on(page)).at(moment)
    response = post_form(client, "/account/two-factor", {"code": code})
    assert "Your recovery codes" in response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_the_set_up_page_draws_the_qr_code_itself_and_shows_the_key(client, app, at_later):
    user = make_user("rep", password=PASSWORD)
    db.session.commit()
    login_as(client, user)
    page = client.get("/account/two-factor").get_data(as_text=True)
    svg = re.search(r"<svg class=\"qr-code\".*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg and "<path" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "<img" not in page  # no outside service draws it
    db.session.expire_all()
    assert secret_on(page) == db.session.get(User, user.id).totp_secret
    assert secret_on(client.get("/account/two-factor").get_data(as_text=True)) == secret_on(page)


def test_set_up_needs_the_right_code_and_shows_ten_recovery_codes_once(client, app, at_later):
    user = make_user("rep", password=PASSWORD)
    db.session.commit()
    login_as(client, user)
    bad = post_form(client, "/account/two-factor", {"code": "000000"})
    assert "code is not right" in bad.get_data(as_text=True)
    assert not db.session.get(User, user.id).two_factor_enabled
    page = set_up(client, LATER)
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page)
    assert len(codes) == 10
    db.session.expire_all()
    assert db.session.get(User, user.id).two_factor_enabled
    again = client.get("/account/two-factor")
    assert again.status_code == 302 and again.headers["Location"] == "/account"
    assert not any(code in client.get("/account").get_data(as_text=True) for code in codes)


def test_turning_off_needs_the_password_or_a_code(client, rep):
    login_as(client, rep)
    refused = post_form(client, "/account/two-factor/off", {"proof": "not my password"})
    assert "not a current code" in refused.get_data(as_text=True)
    assert db.session.get(User, rep.id).two_factor_enabled
    done = post_form(client, "/account/two-factor/off", {"proof": PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/account"
    db.session.expire_all()
    assert not db.session.get(User, rep.id).two_factor_enabled
    post_form(client, "/sign-out")
    assert sign_in(client, "rep@example.org", PASSWORD).headers["Location"] == "/"


@pytest.mark.parametrize(
    "path, data",
    [
        ("/sign-in/code", {"code": "123456"}),
        ("/account/two-factor", {"code": "123456"}),
        ("/account/two-factor/off", {"proof": PASSWORD}),
    ],
)
def test_the_two_factor_forms_need_a_csrf_token(client, rep, path, data):
    sign_in(client, "rep@example.org", PASSWORD)
    if path != "/sign-in/code":
        login_as(client, rep)
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert db.session.get(User, rep.id).two_factor_enabled


# --- Administrators ---------------------------------------------------------------------------


def test_an_admin_resets_a_users_two_factor_sign_in(client, rep):
    admin = make_user("programme", admin=True, password=PASSWORD)
    db.session.commit()
    login_as(client, admin)
    page = client.get(f"/admin/users/{rep.id}").get_data(as_text=True)
    assert "Reset two-factor sign-in" in page
    assert client.post(f"/admin/users/{rep.id}/two-factor-reset").status_code == 400  # no CSRF
    response = post_form(client, f"/admin/users/{rep.id}/two-factor-reset")
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, rep.id).two_factor_enabled
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.actor_id, entry.target_id) == (
        AuditAction.TWO_FACTOR_RESET,
        admin.id,
        rep.id,
    )
    assert "Reset two-factor sign-in of rep@example.org" in client.get(
        f"/admin/users/{rep.id}"
    ).get_data(as_text=True)


def get_routes_without_arguments(app) -> list[str]:
    from app.web.auth.two_factor import OPEN_DURING_SET_UP

    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint not in OPEN_DURING_SET_UP
    )


@pytest.mark.parametrize("app_config", [REQUIRED])
def test_when_required_an_admin_can_use_nothing_before_setting_it_up(
    client, app, app_config, at_later
):
    make_user("programme", email="ada@example.org", admin=True, password=PASSWORD)
    db.session.commit()
    signed = sign_in(client, "ada@example.org", PASSWORD)
    assert signed.status_code == 302  # signed in, but held at the set-up page
    for path in get_routes_without_arguments(app):
        response = client.get(path)
        assert (response.status_code, response.headers.get("Location")) == (
            302,
            "/account/two-factor",
        ), path
    assert client.get("/account/two-factor").status_code == 200
    set_up(client, LATER)
    assert client.get("/admin/users").status_code == 200


@pytest.mark.parametrize("app_config", [REQUIRED])
def test_when_required_reps_and_programme_members_are_not_held(client, app, app_config):
    for role in ("rep", "programme"):
        user = make_user(role, password=PASSWORD)
        db.session.commit()
        login_as(client, user)
        assert client.get("/account").status_code == 200


@pytest.mark.parametrize("app_config", [REQUIRED])
def test_an_admin_made_by_the_cli_sets_it_up_at_first_sign_in(
    client, app, runner, app_config, at_later
):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "pat@example.org",
            "--name",
            "Pat",
            "--role",
            "programme",
            "--admin",
            "--password-stdin",
        ],
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    sign_in(client, "pat@example.org", PASSWORD)
    assert client.get("/").headers["Location"] == "/account/two-factor"
    set_up(client, LATER)
    post_form(client, "/sign-out")
    # From now on the password alone is not enough.
    assert sign_in(client, "pat@example.org", PASSWORD).headers["Location"] == "/sign-in/code"


def _setting(env: dict) -> str:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DEMO_MODE", "ADMIN_TWO_FACTOR_REQUIRED")
    }
    code = "import config; print(config.Config.ADMIN_TWO_FACTOR_REQUIRED)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    ).stdout.strip()


def test_required_for_admins_by_default_except_in_demo_mode():
    assert _setting({}) == "True"
    assert _setting({"DEMO_MODE": "1"}) == "False"
    assert _setting({"ADMIN_TWO_FACTOR_REQUIRED": "0"}) == "False"
    assert _setting({"DEMO_MODE": "1", "ADMIN_TWO_FACTOR_REQUIRED": "1"}) == "True"
