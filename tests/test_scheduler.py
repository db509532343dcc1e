"""The scheduler: one lease holder per job, jobs that survive failures, and its wiring."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta

import click
import pytest
from sqlalchemy import select

from app import scheduler as sched
from app.extensions import db
from app.models import OutboxMessage, SchedulerLease
from app.scheduler import Job, acquire_lease, release_lease, run_job
from tests.factories import add_snapshot, make_area, make_user
from tests.smtp_server import queue_message, smtp_server_fixture  # noqa: F401

TTL = timedelta(minutes=10)


@pytest.fixture(autouse=True)
def scheduler_log_enabled(monkeypatch):
    """Alembic's logging set-up (run once for the test database) disables existing loggers."""
    monkeypatch.setattr(sched.log, "disabled", False)


def test_only_one_of_two_holders_gets_the_lease_until_it_expires(app, now):
    assert acquire_lease("sweep", "A", now, TTL)
    assert not acquire_lease("sweep", "B", now + timedelta(minutes=1), TTL)
    # A renews while it runs; B keeps losing until A's lease has run out.
    assert acquire_lease("sweep", "A", now + timedelta(minutes=5), TTL)
    assert not acquire_lease("sweep", "B", now + timedelta(minutes=14), TTL)
    assert acquire_lease("sweep", "B", now + timedelta(minutes=15), TTL)
    assert not acquire_lease("sweep", "A", now + timedelta(minutes=16), TTL)

    lease = db.session.get(SchedulerLease, "sweep")
    assert (lease.holder, lease.expires_at) == ("B", now + timedelta(minutes=25))


def test_leases_of_different_jobs_are_independent(app, now):
    assert acquire_lease("sweep", "A", now, TTL)
    assert acquire_lease("send", "B", now, TTL)
    assert not acquire_lease("send", "A", now, TTL)


def test_a_released_lease_can_be_taken_at_once(app, now):
    assert acquire_lease("send", "A", now, TTL)
    release_lease("send", "A", now + timedelta(seconds=5))
    assert acquire_lease("send", "B", now + timedelta(seconds=5), TTL)


def test_releasing_someone_elses_lease_changes_nothing(app, now):
    assert acquire_lease("send", "A", now, TTL)
    release_lease("send", "B", now)
    assert not acquire_lease("send", "B", now + timedelta(minutes=1), TTL)


def recording_job(calls: list, lease_name: str = "test") -> Job:
    return Job("test", lease_name, TTL, lambda now, holder: calls.append((now, holder)))


def test_a_job_runs_only_for_the_lease_holder(app, now):
    calls: list = []
    job = recording_job(calls)

    first = run_job(app, job, "A", clock=lambda: now)
    second = run_job(app, job, "B", clock=lambda: now + timedelta(minutes=1))
    third = run_job(app, job, "A", clock=lambda: now + timedelta(minutes=2))

    assert (first, second, third) == ("ran", "skipped", "ran")
    assert [holder for _, holder in calls] == ["A", "A"]


def test_a_failing_job_is_logged_and_does_not_stop_the_scheduler(app, now, caplog):
    def broken(now, holder):
        raise RuntimeError("boom")

    outcome = run_job(app, Job("broken", "broken", TTL, broken), "A", clock=lambda: now)

    assert outcome == "failed"
    assert "broken failed" in caplog.text and "boom" in caplog.text


def test_the_sweep_jobs_run_the_real_sweep_and_commit_what_it_enqueued(app):
    from app.operations.sweep import SweepSummary

    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday, inside the send window
    area = make_area("E1", rep=make_user("rep", email="rita@example.org"))
    add_snapshot(area, 6, 4, on=date(2026, 11, 20), now=now)  # opens a case for the rep
    db.session.commit()

    swept = sched.sweep(now, "A")
    digested = sched.digests(now, "A")

    assert isinstance(swept, SweepSummary) and isinstance(digested, SweepSummary)
    assert sum(swept.enqueued.values()) > 0
    db.session.rollback()  # only committed work survives: the job committed the sweep's writes
    kinds = set(db.session.scalars(select(OutboxMessage.kind)))
    assert "new_case" in kinds


def test_the_send_job_delivers_due_mail_as_the_lease_holder(app, smtp_server, now):
    smtp_server.configure(app)
    queue_message("m1", now=now)
    queue_message("m2", now=now)
    db.session.commit()
    send_job = next(job for job in sched.JOBS if job.id == "send")

    assert run_job(app, send_job, "sched-A", clock=lambda: now) == "ran"

    assert len(smtp_server.messages) == 2
    db.session.expire_all()
    assert set(db.session.scalars(select(OutboxMessage.claimed_by))) == {"sched-A"}


def jobs_of(app) -> dict:
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone=sched.TIMEZONE)
    sched.add_jobs(scheduler, app, "A")
    return {job.id: job for job in scheduler.get_jobs()}


def test_jobs_sweep_every_five_minutes_send_every_minute_and_digest_monday_8_london(app):
    jobs = jobs_of(app)

    assert set(jobs) == {"sweep", "send", "digests", "statistics"}
    assert jobs["sweep"].trigger.interval == timedelta(minutes=5)
    assert jobs["send"].trigger.interval == timedelta(minutes=1)
    digests = jobs["digests"].trigger
    winter = digests.get_next_fire_time(None, datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    summer = digests.get_next_fire_time(None, datetime(2026, 6, 2, 12, 0, tzinfo=UTC))
    assert winter.astimezone(UTC) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert summer.astimezone(UTC) == datetime(2026, 6, 8, 7, 0, tzinfo=UTC)  # 08:00 BST
    assert all(job.max_instances == 1 for job in jobs.values())


def test_the_embedded_scheduler_is_off_unless_enabled(app):
    assert app.config["SCHEDULER_ENABLED"] is False
    assert "scheduler" not in app.extensions
    assert sched.init_scheduler(app) is None


def test_the_embedded_scheduler_starts_with_its_jobs_when_enabled(app, monkeypatch):
    ran: list = []
    monkeypatch.setattr(sched, "run_job", lambda *args: ran.append(args[1].id))
    exits: list = []
    monkeypatch.setattr(sched.atexit, "register", lambda *args: exits.append(args))
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    app.config["SCHEDULER_ENABLED"] = True

    scheduler = sched.init_scheduler(app)
    try:
        assert scheduler is not None and scheduler.running
        assert {job.id for job in scheduler.get_jobs()} == {
            "sweep",
            "send",
            "digests",
            "statistics",
        }
        assert exits and exits[0][0] is sched._shutdown  # shut down at exit
    finally:
        scheduler.shutdown(wait=True)


def in_click_context(name: str, **params):
    ctx = click.Context(click.Command(name), info_name=name)
    ctx.params.update(params)
    return ctx


@pytest.mark.parametrize(
    ("command", "params", "run_main", "expected"),
    [
        (None, {}, None, True),  # a WSGI server importing the app
        ("run", {"reload": False}, None, True),  # flask run --no-reload
        ("run", {"reload": True}, None, False),  # the reloader's watcher process
        ("run", {"reload": True}, "true", True),  # the reloader's serving child
        ("upgrade", {}, None, False),  # any other flask command
        ("scheduler", {}, None, False),  # flask scheduler runs its own
    ],
)
def test_the_scheduler_starts_only_in_the_process_that_serves(
    monkeypatch, command, params, run_main, expected
):
    if run_main is None:
        monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    else:
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", run_main)
    if command is None:
        assert sched._serving_process() is expected
        return
    with in_click_context(command, **params):
        assert sched._serving_process() is expected


# --- shutdown ------------------------------------------------------------------------------


def _scheduler_process(app, command: list[str], extra_env: dict[str, str] | None = None):
    import os
    import subprocess
    from pathlib import Path

    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MAIL_SERVER": "",
        **(extra_env or {}),
    }
    root = Path(__file__).resolve().parents[1]
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", *command],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _held_leases(prefix: str) -> list[SchedulerLease]:
    db.session.expire_all()
    query = select(SchedulerLease).where(SchedulerLease.holder.like(prefix + "%"))
    rows = db.session.scalars(query)
    # The subprocess runs on the wall clock, not the tests' clock.
    return [row for row in rows if row.expires_at > datetime.now(UTC)]


def _wait_for_leases(prefix: str, proc, timeout: float = 60.0) -> list[SchedulerLease]:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        held = _held_leases(prefix)
        if len(held) >= 2:  # sweep and send both run at start
            return held
        time.sleep(0.2)
    return _held_leases(prefix)


@pytest.mark.parametrize("signum_name", ["SIGTERM", "SIGINT"])
def test_stopping_the_standalone_scheduler_with_a_signal_releases_its_leases(app, signum_name):
    import signal

    db.session.commit()
    proc = _scheduler_process(app, ["scheduler"])
    try:
        held = _wait_for_leases("scheduler", proc)
        assert {row.name for row in held} >= {"sweep", "send"}, proc.stdout.read1().decode()
        proc.send_signal(getattr(signal, signum_name))
        output = proc.communicate(timeout=60)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Scheduler stopped." in output
    assert _held_leases("scheduler") == []
    # The jobs' lines reach the console, once each (not again through a second handler).
    assert output.count("INFO app.scheduler: sweep: Sweep at") == 1, output


@pytest.mark.parametrize("signum_name", ["SIGTERM", "SIGINT"])
def test_stopping_the_web_process_with_a_signal_releases_the_embedded_schedulers_leases(
    app, signum_name
):
    import signal

    db.session.commit()
    command = ["run", "--no-reload", "--no-debugger", "--host", "127.0.0.1", "--port", "0"]
    proc = _scheduler_process(app, command, {"SCHEDULER_ENABLED": "1"})
    try:
        held = _wait_for_leases("web", proc)
        assert {row.name for row in held} >= {"sweep", "send"}
        proc.send_signal(getattr(signal, signum_name))
        output = proc.communicate(timeout=60)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _held_leases("web") == []
    # The embedded scheduler's lines reach the console of `flask run`.
    assert "INFO app.scheduler: Embedded scheduler started as web@" in output, output
    assert "INFO app.scheduler: sweep: Sweep at" in output, output
    assert "INFO app.scheduler: send: Nothing sent: no MAIL_SERVER" in output, output
