"""`flask outbox send` delivers due mail; `flask scheduler` runs the periodic jobs."""

from __future__ import annotations

import logging
import signal
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.moments import now_option
from app.operations.outbox import count_queued, mail_configured, send_all_due


@click.group("outbox")
def outbox_group() -> None:
    """The outbox of automatic mail."""


@outbox_group.command("send")
@now_option
@click.option("--batch", type=click.IntRange(1, 10_000), default=100, show_default=True)
@with_appcontext
def send_command(now: datetime, batch: int) -> None:
    """Deliver every message that is due, batch after batch, until none is left."""
    from app.scheduler import make_holder

    if not mail_configured():
        click.echo(f"No MAIL_SERVER is configured: {count_queued()} message(s) stay in the outbox.")
        return
    summary = send_all_due(now, worker=make_holder("cli"), batch=batch)
    click.echo(f"{summary.line()} {count_queued()} remaining in the outbox.")
    if summary.stalled:
        raise SystemExit(1)  # delivered nothing because the server failed: a cron job sees it


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the sweep, the sender and the weekly digests until stopped (Ctrl+C)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from app.scheduler import TIMEZONE, add_jobs, make_holder, release_all

    # The app's log lines reach stderr through the handler the factory puts on the "app"
    # logger (at LOG_LEVEL); the scheduler library's own warnings reach it through this one.
    _library_warnings("apscheduler")
    app = current_app._get_current_object()
    holder = make_holder("scheduler")
    scheduler = BlockingScheduler(timezone=TIMEZONE)
    add_jobs(scheduler, app, holder)
    # A service manager stops us with SIGTERM: end the loop as Ctrl+C would.
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    click.echo(f"Scheduler {holder} running (Europe/London); Ctrl+C to stop.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        release_all(app, holder)
        click.echo("Scheduler stopped.")


def _library_warnings(name: str) -> None:
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False


commands = [outbox_group, scheduler_command]
