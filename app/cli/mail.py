"""`flask outbox send` delivers due mail (`flask scheduler`, in cli/scheduler.py, runs it every
minute)."""

from __future__ import annotations

from datetime import datetime

import click
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


commands = [outbox_group]
