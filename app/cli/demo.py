"""`flask demo load`: the deterministic demo programme (docs/insights.md)."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from app import clock
from app.extensions import db
from app.operations.maintenance import refresh_statistics

demo_group = AppGroup("demo", help="Demo data.")


@demo_group.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when areas already exist.")
@click.option("--seed", type=int, default=2021, show_default=True)
def load(if_empty: bool, seed: int) -> None:
    """Load 150 areas, ~50 reps, seven annual reviews and in-year updates, with demo logins."""
    from app.demo.loader import is_empty, load_demo  # the generator loads only for this command

    if not is_empty():
        if if_empty:
            click.echo("Demo data: the database already holds areas; nothing loaded.")
            _print_logins(None)
            return
        click.echo(
            "error: the database already holds areas; demo data loads into an empty database only.",
            err=True,
        )
        sys.exit(1)
    started = time.perf_counter()
    click.echo("Loading the demo programme…", err=True)
    logins = load_demo(now=clock.now(), seed=seed)
    db.session.commit()
    refresh_statistics()
    click.echo(
        f"Loaded {logins.areas} areas, {logins.reps} reps, {logins.snapshots} snapshots and"
        f" {logins.cases} cases in {time.perf_counter() - started:.1f} s."
    )
    _print_logins(logins)


def _print_logins(logins) -> None:
    from app.demo.loader import ADMIN_EMAIL, DEMO_PASSWORD, PROGRAMME_EMAIL

    if logins is None and not current_app.config.get("DEMO_MODE"):
        return
    rep = logins.rep if logins else _busiest_rep()
    click.echo("Demo logins (demo only; every demo account has the same password):")
    click.echo(f"  programme team, admin: {ADMIN_EMAIL}")
    click.echo(f"  programme team:        {PROGRAMME_EMAIL}")
    if rep:
        click.echo(f"  rep:                   {rep}")
    click.echo(f"  password:              {DEMO_PASSWORD}")


def _busiest_rep() -> str | None:
    from sqlalchemy import func, select

    from app.models import Case, User
    from app.rules.vocabulary import OPEN_STATUSES

    row = db.session.execute(
        select(User.email, func.count(Case.id))
        .join(Case, Case.rep_id == User.id)
        .where(Case.status.in_(OPEN_STATUSES), User.password_hash.is_not(None))
        .group_by(User.email)
        .order_by(func.count(Case.id).desc(), User.email)
        .limit(1)
    ).first()
    return row[0] if row else None


commands = [demo_group]
