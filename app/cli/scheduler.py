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

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
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


commands = [scheduler_command]
