"""`flask insights`: the programme's yearly figures (docs/insights.md)."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from app.extensions import db
from app.models import Area
from app.queries.insights import area_ids_for, as_json, programme_insights


@click.command("insights")
@click.option(
    "--json", "json_out", is_flag=True, help="The insights of docs/insights.md as JSON on stdout."
)
@click.option("--area", "areas", multiple=True, metavar="CODE", help="Only these areas.")
@click.option(
    "--from", "first_year", type=int, metavar="YEAR", help="First review year (included)."
)
@click.option("--to", "last_year", type=int, metavar="YEAR", help="Last review year (included).")
def insights_command(
    json_out: bool, areas: tuple[str, ...], first_year: int | None, last_year: int | None
) -> None:
    """Programme insights, for the whole programme or the areas given, over every review year
    or those from --from to --to (e.g. --from 2015 --to 2021 for the 2021 summary's span)."""
    if first_year is not None and last_year is not None and first_year > last_year:
        raise click.BadParameter(
            f"--from {first_year} is after --to {last_year}", param_hint="--from/--to"
        )
    area_ids = None
    if areas:
        codes = {code.strip().upper() for code in areas}
        known = set(db.session.scalars(select(Area.code).where(Area.code.in_(codes))))
        unknown = sorted(codes - known)
        if unknown:
            raise click.BadParameter(f"unknown area(s): {', '.join(unknown)}", param_hint="--area")
        area_ids = area_ids_for(codes=sorted(codes))
    figures = as_json(programme_insights(area_ids, first_year, last_year))
    if json_out:
        click.echo(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for year, count in value.items():
                click.echo(f"  {year}: {count:,}")
        else:
            click.echo(f"{key}: {value}")


commands = [insights_command]
