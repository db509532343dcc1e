"""`flask health`: the same JSON as GET /healthz; exit status 1 unless it is ok (for cron and
monitors), with what is wrong on stderr."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from app.cli.moments import now_option
from app.queries.health import read_health
from app.rules.vocabulary import HealthStatus
from app.settings import health_thresholds


@click.command("health")
@now_option
@with_appcontext
def health_command(now) -> None:
    """Print the health of the sweep and the sender as JSON; exit 1 when not ok."""
    health = read_health(now, health_thresholds())
    click.echo(json.dumps(health.public(), indent=2))
    for problem in health.problems:
        click.echo(problem, err=True)
    if health.last_error and health.status != HealthStatus.OK:
        click.echo(f"Last mail server error: {health.last_error}", err=True)
    if health.status != HealthStatus.OK:
        raise SystemExit(1)


commands = [health_command]
