"""`flask areas import`, `flask reviews import`, `flask updates import` (docs/csv.md).

All-or-nothing: a bad file exits with status 1, lists its bad rows on stderr as
`row N, column C: reason` (past a screenful, the first 100 and a count per reason, as the web
import shows them), and writes nothing."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

import click
from flask.cli import AppGroup

from app import clock
from app.extensions import db
from app.operations.errors import UserError
from app.operations.imports import (
    ImportRejected,
    known_area_codes,
    parse_areas,
    parse_snapshots,
    store_areas,
)
from app.operations.maintenance import refresh_statistics
from app.operations.snapshots import store_snapshots
from app.rules.vocabulary import SnapshotKind

areas_group = AppGroup("areas", help="Areas, their contacts and reps.")
reviews_group = AppGroup("reviews", help="Annual membership reviews.")
updates_group = AppGroup("updates", help="In-year membership updates.")

FILE = click.argument("file", type=click.File("rb"))


def _reject(problems_lines: list[str], name: str) -> None:
    click.echo(f"{name}: nothing was imported; fix these rows and run the import again:", err=True)
    for line in problems_lines:
        click.echo(f"  {line}", err=True)
    db.session.rollback()
    sys.exit(1)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


@contextmanager
def _progress(total: int, label: str):
    """A progress bar on stderr for long work (shown only when stderr is a terminal)."""
    if total < 2000 or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True) as bar:
        yield bar.update


def _applied(run, name: str):
    """`run()`'s result once committed (and the planner's statistics refreshed); a rejected
    file or a refused change exits with its lines and writes nothing."""
    try:
        result = run()
        db.session.commit()
        refresh_statistics()
    except ImportRejected as exc:
        _reject(exc.problems.report().lines(), name)
    except UserError as exc:
        _reject([str(exc)], name)
    return result


@areas_group.command("import")
@FILE
def import_areas(file) -> None:
    """Create or update areas, contacts and reps from FILE (CSV)."""
    started = time.perf_counter()
    data = file.read()

    def run():
        rows, warnings, count = parse_areas(data)
        return store_areas(rows, now=clock.now()), warnings, count

    summary, warnings, count = _applied(run, file.name)
    _warn(warnings)
    click.echo(
        f"{count} rows: {summary.areas_created} areas created, {summary.areas_updated} updated,"
        f" {summary.areas_unchanged} unchanged; {summary.contacts_added} contacts added,"
        f" {summary.contacts_updated} updated; {summary.cases_reassigned} open cases reassigned"
        f" ({time.perf_counter() - started:.1f} s)"
    )
    if summary.reps_created:
        click.echo(
            f"{len(summary.reps_created)} new rep account(s), without a password (send each a"
            " set-password link from the Users page):"
        )
        for email in summary.reps_created:
            click.echo(f"  {email}")


def _import_snapshots(file, kind: str, what: str) -> None:
    started = time.perf_counter()
    data = file.read()
    lines = max(data.count(b"\n"), 1)

    def run():
        with _progress(lines, "Checking rows  ") as update:
            inputs, warnings, _ = parse_snapshots(data, kind, known_area_codes(), update)
        with _progress(len(inputs), "Storing       ") as update:
            summary = store_snapshots(inputs, now=clock.now(), source="import", progress=update)
        return summary, warnings

    summary, warnings = _applied(run, file.name)
    _warn(warnings)
    cases = summary.cases
    click.echo(
        f"{summary.rows} rows, {summary.areas} areas: {what} {summary.snapshots_created} created,"
        f" {summary.snapshots_replaced} replaced, {summary.snapshots_unchanged} unchanged."
    )
    click.echo(
        f"Cases: {cases.opened} opened, {cases.returned} returned within criteria,"
        f" {cases.resolved} resolved, {cases.escalated} escalated"
        f" ({time.perf_counter() - started:.1f} s)"
    )


@reviews_group.command("import")
@FILE
def import_reviews(file) -> None:
    """Import annual reviews from FILE (CSV); re-importing an area-year replaces its roster."""
    _import_snapshots(file, SnapshotKind.ANNUAL, "reviews")


@updates_group.command("import")
@FILE
def import_updates(file) -> None:
    """Import in-year membership updates from FILE (CSV)."""
    _import_snapshots(file, SnapshotKind.UPDATE, "updates")


commands = [areas_group, reviews_group, updates_group]
