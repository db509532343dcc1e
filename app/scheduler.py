"""APScheduler wiring: which jobs run when (Europe/London). The jobs themselves are operations.

Each run of a job first takes that job's lease row in `scheduler_leases`; a second scheduler
started by mistake (or one per gunicorn worker) finds the lease held and skips, so nothing is
done twice. The lease outlives the job's interval, so a live holder keeps it, and a dead
holder's lease expires and another scheduler takes over."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from flask import Flask
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from app import clock as app_clock
from app.extensions import db
from app.models import SchedulerLease
from app.operations.rows import rowcount

log = logging.getLogger(__name__)

TIMEZONE = "Europe/London"
SEND_LEASE = timedelta(minutes=3)


@dataclass(frozen=True)
class Job:
    """A scheduled job: `run(now, holder)` inside an app context, guarded by lease `lease_name`."""

    id: str
    lease_name: str
    lease: timedelta
    run: Callable[[datetime, str], object]


def make_holder(role: str) -> str:
    """A name for this scheduler instance: host, process and a random part."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]


# --- the lease --------------------------------------------------------------------------------


def acquire_lease(name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew lease `name` for `holder` until now + ttl; False if someone else holds it.

    Atomic on every database: the conditional UPDATE wins only a free or own row, and the
    INSERT of a missing row is backed by the primary key (the loser gets an IntegrityError)."""
    expires = now + ttl
    renewed = db.session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now),
        )
        .values(holder=holder, expires_at=expires, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(renewed) == 1:
        db.session.commit()
        return True
    db.session.rollback()
    try:
        db.session.add(SchedulerLease(name=name, holder=holder, expires_at=expires, updated_at=now))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def release_lease(name: str, holder: str, now: datetime) -> None:
    """Give the lease up at once (on a clean shutdown), if we hold it."""
    db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(expires_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


# --- the jobs ---------------------------------------------------------------------------------


def sweep(now: datetime, holder: str) -> object:
    """Enqueue every reminder due now."""
    from app.operations.sweep import run_sweep

    summary = run_sweep(now)
    db.session.commit()
    return summary


def digests(now: datetime, holder: str) -> object:
    """Monday 08:00: enqueue the weekly digests (through the sweep)."""
    from app.operations.sweep import enqueue_digests

    summary = enqueue_digests(now)
    db.session.commit()
    return summary


def send(now: datetime, holder: str) -> object:
    """Deliver the mail that is due, stopping at half the job's lease (a run never outlives
    its lease: what it has not tried is given back for the next run)."""
    from app.operations.outbox import send_all_due

    return send_all_due(now, worker=holder, budget=SEND_LEASE / 2)


def statistics(now: datetime, holder: str) -> object:
    """Nightly: fresh planner statistics, so the pages' queries keep their good plans."""
    from app.operations.maintenance import refresh_statistics

    refresh_statistics()
    return "statistics refreshed"


JOBS = (
    Job("sweep", "sweep", timedelta(minutes=10), sweep),
    Job("send", "send", SEND_LEASE, send),
    Job("digests", "sweep", timedelta(minutes=10), digests),
    Job("statistics", "statistics", timedelta(minutes=10), statistics),
)


def run_job(
    app: Flask, job: Job, holder: str, clock: Callable[[], datetime] = app_clock.now
) -> str:
    """Run `job` once in an app context if its lease is ours: 'ran', 'skipped' or 'failed'."""
    with app.app_context():
        now = clock()
        if not acquire_lease(job.lease_name, holder, now, job.lease):
            log.info("%s: another scheduler holds the lease; skipped.", job.id)
            return "skipped"
        try:
            result = job.run(now, holder)
        except Exception:  # a failing job must not stop the scheduler
            db.session.rollback()
            log.exception("%s failed", job.id)
            return "failed"
        line = getattr(result, "line", None)
        # A run stopped by the mail server's failure carries its error: an operator must see it.
        level = logging.WARNING if getattr(result, "error", None) else logging.INFO
        log.log(level, "%s: %s", job.id, line() if callable(line) else result)
        return "ran"


def add_jobs(scheduler, app: Flask, holder: str) -> None:
    """Sweep every 5 minutes, send every minute (both at once on start), digests Monday 08:00."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    jobs = {job.id: job for job in JOBS}
    start = datetime.now(scheduler.timezone)
    schedule: dict[str, tuple[Any, dict[str, Any]]] = {
        "sweep": (IntervalTrigger(minutes=5, timezone=TIMEZONE), {"next_run_time": start}),
        "send": (IntervalTrigger(minutes=1, timezone=TIMEZONE), {"next_run_time": start}),
        "digests": (
            CronTrigger(day_of_week="mon", hour=8, minute=0, timezone=TIMEZONE),
            {"misfire_grace_time": 3600},
        ),
        "statistics": (
            CronTrigger(hour=3, minute=30, timezone=TIMEZONE),
            {"misfire_grace_time": 3600},
        ),
    }
    for job_id, (trigger, extra) in schedule.items():
        options: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
        options.update(extra)
        scheduler.add_job(
            run_job, trigger, args=[app, jobs[job_id], holder], id=job_id, name=job_id, **options
        )


def release_all(app: Flask, holder: str) -> None:
    with app.app_context():
        for name in {job.lease_name for job in JOBS}:
            release_lease(name, holder, app_clock.now())


# --- the web process's embedded scheduler -----------------------------------------------------


def init_scheduler(app: Flask):
    """Start the embedded scheduler when SCHEDULER_ENABLED is set (make run)."""
    if not app.config.get("SCHEDULER_ENABLED") or not _serving_process():
        return None
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone=TIMEZONE, daemon=True)
    holder = make_holder("web")
    add_jobs(scheduler, app, holder)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    atexit.register(_shutdown, scheduler, app, holder)
    _release_on_signals(scheduler, app, holder)
    log.info("Embedded scheduler started as %s", holder)
    return scheduler


def _release_on_signals(scheduler, app: Flask, holder: str) -> None:
    """SIGTERM/SIGINT skip atexit: give the leases up first, then stop as before.

    Without this a restarted web process waits out the old leases with no sweep at all."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread

    def stop(signum, frame, previous):
        _shutdown(scheduler, app, holder, wait=False)
        if callable(previous):
            previous(signum, frame)
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt
        else:
            raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        signal.signal(signum, partial(stop, previous=previous))


def _shutdown(scheduler, app: Flask, holder: str, wait: bool = True) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=wait)
    try:
        release_all(app, holder)
    except Exception:  # the database may already be gone at exit
        log.warning("Could not release the scheduler leases at exit", exc_info=True)


def _serving_process() -> bool:
    """True in a process that serves requests: not the reloader's watcher, not `flask db …`."""
    if os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        return True  # the reloader's child, which serves
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return True  # a WSGI server (gunicorn) importing the app
    if ctx.command.name != "run":
        return False  # other `flask` commands load the app too; `flask scheduler` has its own
    reload = ctx.params.get("reload")
    if reload is None:
        from flask.helpers import get_debug_flag

        reload = get_debug_flag()
    return not reload  # with the reloader, only its child (above) starts the scheduler
