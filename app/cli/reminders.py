"""`flask reminders sweep [--now ISO]`: enqueue every reminder due now (SPEC 2.5)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from app.extensions import db
from app.models.types import utcnow
from app.operations.sweep import run_sweep
from app.rules.calendar import LONDON

reminders_group = AppGroup("reminders", help="Automatic reminder emails.")


def parse_now(value: str | None) -> datetime:
    """An ISO datetime; with an offset it is taken as given, without one as London time."""
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not an ISO date and time, e.g. 2026-12-25T10:00+00:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    return moment.astimezone(UTC)


@reminders_group.command("sweep")
@click.option(
    "--now",
    metavar="ISO",
    callback=lambda ctx, param, value: parse_now(value),
    help="The moment to sweep at (default: now). Without an offset it is London time.",
)
def sweep_command(now: datetime) -> None:
    """Enqueue the reminders and digests due now in the outbox (safe to run any time)."""
    summary = run_sweep(now)
    db.session.commit()
    click.echo(summary.line())


commands = [reminders_group]
