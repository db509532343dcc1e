"""Health: GET /healthz in each state, `flask health`'s exit codes, and the health panels on
the Outbox page and the dashboard (end to end through the test SMTP server where mail is sent)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import make_url

from app import create_app
from app.extensions import db
from app.operations.job_runs import record_run
from app.operations.outbox import send_all_due
from app.rules.vocabulary import JobName
from tests.conftest import _config_for
from tests.factories import make_user
from tests.querycount import count_queries
from tests.smtp_server import queue_message, smtp_server_fixture  # noqa: F401

KEYS = {
    "status",
    "database",
    "last_sweep_at",
    "last_send_at",
    "queued_due",
    "oldest_due_at",
    "failed_24h",
}


@pytest.fixture
def at(freeze_clock, now):
    return freeze_clock(now)


def healthz(client):
    response = client.get("/healthz")
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == KEYS
    return response.status_code, body


def unreachable_url(url: str, tmp_path) -> str:
    """A database URL of the same kind as the tests' that cannot be reached."""
    if make_url(url).get_backend_name() == "postgresql":
        return make_url(url).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'no-such-folder' / 'gone.db'}"


@pytest.fixture
def unreachable_app(app, tmp_path):
    broken = create_app(
        _config_for(unreachable_url(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path))
    )
    with broken.app_context():
        yield broken
        db.session.remove()
        db.engine.dispose()


def test_healthz_is_ok_after_a_recent_sweep_with_no_mail_waiting(app, client, at):
    record_run(JobName.SWEEP, at - timedelta(minutes=4))
    record_run(JobName.SEND, at - timedelta(minutes=1))
    queue_message("later", now=at, not_before=at + timedelta(hours=2))
    db.session.commit()

    status, body = healthz(client)  # not signed in

    assert status == 200
    assert body == {
        "status": "ok",
        "database": "ok",
        "last_sweep_at": (at - timedelta(minutes=4)).isoformat(),
        "last_send_at": (at - timedelta(minutes=1)).isoformat(),
        "queued_due": 0,
        "oldest_due_at": None,
        "failed_24h": 0,
    }


def test_healthz_is_degraded_when_the_sweep_is_older_than_fifteen_minutes(app, client, at):
    record_run(JobName.SWEEP, at - timedelta(minutes=16))
    db.session.commit()

    status, body = healthz(client)

    assert (status, body["status"]) == (200, "degraded")


def test_healthz_is_degraded_when_no_sweep_has_ever_run(app, client, at):
    status, body = healthz(client)

    assert (status, body["status"], body["last_sweep_at"]) == (200, "degraded", None)


def test_healthz_is_degraded_when_due_mail_has_waited_more_than_thirty_minutes(app, client, at):
    record_run(JobName.SWEEP, at - timedelta(minutes=1))
    queue_message("old", now=at, not_before=at - timedelta(minutes=31), recipient="p@example.org")
    queue_message("new", now=at, not_before=at - timedelta(minutes=5))
    db.session.commit()

    status, body = healthz(client)

    assert (status, body["status"], body["queued_due"]) == (200, "degraded", 2)
    assert body["oldest_due_at"] == (at - timedelta(minutes=31)).isoformat()
    assert "example.org" not in client.get("/healthz").get_data(as_text=True)  # no personal data


def test_mail_due_for_less_than_thirty_minutes_is_still_ok(app, client, at):
    record_run(JobName.SWEEP, at - timedelta(minutes=1))
    queue_message("new", now=at, not_before=at - timedelta(minutes=29))
    db.session.commit()

    assert healthz(client)[1]["status"] == "ok"


@pytest.mark.parametrize("app_config", [{"HEALTH_SWEEP_LATE_MINUTES": 60}])
def test_the_thresholds_are_settings(app, client, at):
    record_run(JobName.SWEEP, at - timedelta(minutes=50))
    db.session.commit()

    assert healthz(client)[1]["status"] == "ok"


def test_healthz_is_down_with_503_when_the_database_cannot_be_reached(unreachable_app):
    status, body = healthz(unreachable_app.test_client())

    assert status == 503
    assert body["status"] == "down" and body["database"] == "unreachable"
    assert body["queued_due"] is None and body["last_sweep_at"] is None


def test_a_permanently_refused_mail_counts_as_a_failure_of_the_last_24_hours(
    app, client, smtp_server, at
):
    smtp_server.configure(app)
    smtp_server.refuse.add("gone@example.org")
    record_run(JobName.SWEEP, at)
    queue_message("bad", now=at, recipient="gone@example.org")
    queue_message("good", now=at)
    db.session.commit()

    send_all_due(at, worker="w1")
    day_later = healthz(client)[1]

    assert day_later["failed_24h"] == 1
    assert day_later["last_send_at"] == at.isoformat()
    assert len(smtp_server.messages) == 1


def test_the_health_query_count_does_not_grow_with_the_outbox(app, client, at):
    def queries(n: int) -> int:
        for i in range(n):
            queue_message(f"k{n}-{i}", now=at, not_before=at - timedelta(hours=1))
        db.session.commit()
        with count_queries() as counter:
            client.get("/healthz")
        return counter.count

    assert queries(2) == queries(40) <= 4


# --- flask health -------------------------------------------------------------------------


def test_flask_health_prints_the_same_json_and_exits_0_when_ok(app, runner, at):
    record_run(JobName.SWEEP, at - timedelta(minutes=2))
    db.session.commit()

    result = runner.invoke(args=["health", "--now", at.isoformat()])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "ok"
    assert set(json.loads(result.stdout)) == KEYS


def test_flask_health_exits_1_and_says_why_when_degraded(app, runner, at):
    record_run(JobName.SWEEP, at - timedelta(hours=3))
    db.session.commit()

    result = runner.invoke(args=["health", "--now", at.isoformat()])

    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "degraded"
    assert "The last reminder sweep was 3 hours ago" in result.stderr


def test_flask_health_exits_1_when_the_database_cannot_be_reached(unreachable_app):
    result = unreachable_app.test_cli_runner().invoke(args=["health"])

    assert result.exit_code == 1
    assert json.loads(result.stdout)["database"] == "unreachable"


# --- the panels ---------------------------------------------------------------------------


@pytest.fixture
def programme(signed_in):
    user = make_user("programme")
    db.session.commit()
    return signed_in(user)


def test_the_outbox_page_shows_the_last_mail_server_error_and_a_warning_when_mail_waits(
    app, programme, smtp_server, at
):
    smtp_server.configure(app)
    record_run(JobName.SWEEP, at - timedelta(minutes=40))
    queue_message("m", now=at, not_before=at - timedelta(hours=1))
    db.session.commit()
    smtp_server.stop()
    send_all_due(at - timedelta(seconds=30), worker="w1")  # the server is down: it backs off

    html = programme.get("/outbox").get_data(as_text=True)

    assert 'data-health="degraded"' in html
    assert "Due mail has been waiting for 60 minutes" in html
    assert "The last reminder sweep was 40 minutes ago" in html
    assert "Connection refused" in html or "ConnectionRefusedError" in html
    assert "the next try is after" in html


def test_the_dashboard_warns_at_the_top_when_mail_is_not_healthy(app, programme, at):
    record_run(JobName.SWEEP, at - timedelta(minutes=20))
    db.session.commit()

    html = programme.get("/dashboard").get_data(as_text=True)

    assert 'id="health-warning"' in html
    assert html.index('id="health-warning"') < html.index("Needs attention")
    assert 'data-health="degraded"' in html


def test_the_dashboard_shows_no_warning_when_all_is_well(app, programme, at):
    record_run(JobName.SWEEP, at - timedelta(minutes=2))
    db.session.commit()

    html = programme.get("/dashboard").get_data(as_text=True)

    assert 'id="health-warning"' not in html
    assert 'data-health="ok"' in html
