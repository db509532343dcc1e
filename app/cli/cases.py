"""`flask cases list`."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from app.queries.cases import case_rows
from app.rules.vocabulary import FLAGS, STATUSES

# click.Choice shows and matches enum members by name: give it the stored values.
_STATUS_VALUES = [s.value for s in STATUSES]
_FLAG_VALUES = [f.value for f in FLAGS]

cases_group = AppGroup("cases", help="Read cases.")


@cases_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array on stdout.")
@click.option(
    "--status", type=click.Choice([s.value for s in STATUSES]), help="Only cases with this status."
)
@click.option(
    "--flag", type=click.Choice([f.value for f in FLAGS]), help="Only cases with this flag."
)
@click.option("--area", metavar="CODE", help="Only the cases of this area.")
def list_cases(as_json: bool, status: str | None, flag: str | None, area: str | None) -> None:
    """List cases, oldest first."""
    rows = case_rows(status=status, flag=flag, area=area)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No cases match.")
        return
    header = ("id", "area", "flag", "status", "rep", "opened", "returned", "resolved", "members")
    table = [
        (
            str(r["id"]),
            r["area_code"],
            r["flag"],
            r["status"],
            r["rep_email"] or "-",
            r["opened_on"],
            r["returned_on"] or "-",
            r["resolved_on"] or "-",
            f"{r['members']}/{r['residents']}",
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(header)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    click.echo(f"{len(rows)} case(s)")


commands = [cases_group]
