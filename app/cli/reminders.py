"""`flask reminders sweep [--now ISO]`: enqueue every reminder due now (docs/reminders.md)."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from app.cli.moments import now_option
from app.extensions import db

reminders_group = AppGroup("reminders", help="Automatic reminder emails.")


@reminders_group.command("sweep")
@now_option
def sweep_command(now: datetime) -> None:
    """Enqueue the reminders and digests due now in the outbox (safe to run any time)."""
    from app.operations.sweep import run_sweep  # loaded only for this command

    summary = run_sweep(now)
    db.session.commit()
    click.echo(summary.line())


commands = [reminders_group]
