"""Production settings: the generated secret key, a refused short key, trusted proxies."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest

from app import create_app
from app.extensions import db
from app.secret_key import SECRET_KEY_FILE, InsecureSecretKey
from tests.conftest import _config_for
from tests.factories import make_user
from tests.web.test_auth import PASSWORD, sign_in

# --- Secret key -------------------------------------------------------------------------------

READ_KEY = "import sys; from app.secret_key import instance_secret_key as k; print(k(sys.argv[1]))"


def test_workers_starting_at_once_agree_on_one_generated_key(tmp_path):
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", READ_KEY, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(8)
    ]
    keys = {worker.communicate(timeout=60)[0].strip() for worker in workers}
    assert len(keys) == 1
    (key,) = keys
    assert len(key) >= 32
    assert (tmp_path / SECRET_KEY_FILE).read_text().strip() == key
    assert sorted(p.name for p in tmp_path.iterdir()) == [SECRET_KEY_FILE]  # no temp files left


def test_without_a_key_the_app_generates_one_readable_only_by_its_owner(migrated, tmp_path):
    config = _config_for(migrated, SECRET_KEY=None, TESTING=False, INSTANCE_PATH=str(tmp_path))
    first = create_app(config)
    path = tmp_path / SECRET_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.secret_key == path.read_text().strip()
    assert first.secret_key != "dev-only-change-me"
    assert create_app(config).secret_key == first.secret_key  # the same key from then on


def test_a_short_configured_key_is_refused_at_start(migrated, tmp_path):
    config = _config_for(migrated, SECRET_KEY="x" * 31, TESTING=False, INSTANCE_PATH=str(tmp_path))
    with pytest.raises(InsecureSecretKey, match="at least 32"):
        create_app(config)


# --- Trusted proxies --------------------------------------------------------------------------

HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "followup.example"}


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_behind_one_proxy_https_is_seen(client, app_config):
    response = client.get("/sign-in", headers=HTTPS)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_with_no_trusted_proxy_forwarded_headers_are_ignored(client):
    response = client.get("/sign-in", headers=HTTPS)
    assert "Strict-Transport-Security" not in response.headers


def _external_url_probe(app) -> None:
    """A route answering with the absolute URL the app makes for the sign-in page (what
    url_for(..., _external=True) gives any view), so the test sees the app's idea of its scheme
    and host behind the proxy."""
    from flask import url_for

    app.add_url_rule("/probe-external-url", "probe", lambda: url_for("auth.login", _external=True))


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_behind_one_proxy_the_app_makes_https_urls_and_sends_hsts(app, client, app_config):
    _external_url_probe(app)
    response = client.get("/probe-external-url", headers=HTTPS)
    assert response.get_data(as_text=True) == "https://followup.example/sign-in"
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_with_no_trusted_proxy_the_app_makes_urls_from_what_it_sees(app, client):
    _external_url_probe(app)
    response = client.get("/probe-external-url", headers=HTTPS)
    assert response.get_data(as_text=True) == "http://localhost/sign-in"
    assert "Strict-Transport-Security" not in response.headers


def _failures_from(client, forwarded_for: str, count: int) -> None:
    for i in range(count):
        sign_in_with_forwarded(client, f"guess{i}@example.org", "wrong password!", forwarded_for)


def sign_in_with_forwarded(client, email, password, forwarded_for):
    from tests.web.conftest import post_form

    return post_form(
        client,
        "/sign-in",
        {"email": email, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )


@pytest.fixture
def rep(app, freeze_clock, now):
    # A frozen clock keeps every attempt in one fixed 15-minute window (on a real clock a run
    # that crosses a quarter hour starts the count again).
    freeze_clock(now)
    user = make_user("rep", email="rep@example.org", password=PASSWORD)
    db.session.commit()
    return user


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_behind_a_proxy_the_address_limit_sees_the_client(client, rep, app_config):
    _failures_from(client, "203.0.113.7", 20)
    blocked = sign_in_with_forwarded(client, "rep@example.org", PASSWORD, "203.0.113.7")
    assert blocked.status_code == 429
    other = sign_in_with_forwarded(client, "rep@example.org", PASSWORD, "203.0.113.8")
    assert other.status_code == 302


def test_with_no_trusted_proxy_a_forged_address_does_not_escape_the_limit(client, rep):
    _failures_from(client, "203.0.113.7", 20)
    forged = sign_in_with_forwarded(client, "rep@example.org", PASSWORD, "203.0.113.8")
    assert forged.status_code == 429
    assert sign_in(client, "rep@example.org", PASSWORD, ip="198.51.100.1").status_code == 302
