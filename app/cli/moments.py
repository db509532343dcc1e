"""`--now` for every command that takes it: one parser, one rule.

A time with an offset or `Z` is taken as given; a naive time (no offset) is Europe/London
wall-clock time, as the programme team reads clocks. Without `--now`, the app's clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import click

from app import clock
from app.rules.calendar import LONDON

NOW_HELP = (
    "Act as if it were this moment: ISO 8601, e.g. 2026-11-25T10:00 (no offset: London time) "
    "or 2026-11-25T10:00Z / +00:00 (offset respected). Default: now."
)


class Moment(click.ParamType):
    """An ISO 8601 date and time as an aware UTC datetime (naive = Europe/London)."""

    name = "ISO"

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value).strip())
            except ValueError:
                self.fail(
                    f"“{value}” is not an ISO date-time: it is not an ISO date and time such as "
                    "2026-11-25T10:00 (London) or 2026-11-25T10:00Z (UTC)",
                    param,
                    ctx,
                )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LONDON)
        return moment.astimezone(UTC)


MOMENT = Moment()


def now_option(command: Callable) -> Callable:
    """`--now ISO` passed to the command as `now` (an aware UTC datetime, never None)."""
    return click.option(
        "--now",
        type=MOMENT,
        metavar="ISO",
        help=NOW_HELP,
        callback=lambda ctx, param, value: value if value is not None else clock.now(),
    )(command)
