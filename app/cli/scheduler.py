"""`flask scheduler`: the periodic jobs (sweep, sender, digests, statistics) in their own process,
for deployments that don't run the scheduler inside the web server (see docs/operations.md)."""

from __future__ import annotations

import logging
import signal

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the sweep, the sender and the weekly digests until stopped (Ctrl+C)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from app.scheduler import TIMEZONE, add_jobs, make_holder, release_all

    # The app's log lines reach stderr through the handler the factory puts on the "app"
    # logger (at LOG_LEVEL); the scheduler library's own warnings reach it through this one.
    _library_warnings("apscheduler")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
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


commands = [scheduler_command]
