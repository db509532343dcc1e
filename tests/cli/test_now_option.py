"""`--now`: one parser for every command; naive = Europe/London, an offset or Z is respected,
and without `--now` the app's clock decides."""

from datetime import UTC, datetime

import click
import pytest

from app.cli.moments import MOMENT

COMMANDS = [("reminders", "sweep"), ("outbox", "send")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07-01T09:30", datetime(2026, 7, 1, 8, 30, tzinfo=UTC)),  # BST
        ("2026-11-25T10:00", datetime(2026, 11, 25, 10, 0, tzinfo=UTC)),  # GMT
        ("2026-07-01T09:30Z", datetime(2026, 7, 1, 9, 30, tzinfo=UTC)),
        ("2026-07-01T09:30-05:00", datetime(2026, 7, 1, 14, 30, tzinfo=UTC)),
    ],
)
def test_naive_is_london_and_an_offset_is_respected(text, expected):
    assert MOMENT.convert(text, None, None) == expected


@pytest.mark.parametrize("group, name", COMMANDS)
def test_every_command_with_now_uses_the_one_parser_and_says_the_rule(app, group, name):
    command = app.cli.get_command(click.Context(app.cli), group).get_command(None, name)
    (option,) = [p for p in command.params if p.name == "now"]
    assert option.type is MOMENT
    assert "London" in option.help and "offset respected" in option.help


def test_without_now_the_frozen_app_clock_is_used(runner, freeze_clock):
    freeze_clock(datetime(2026, 11, 24, 15, 45, tzinfo=UTC))
    result = runner.invoke(args=["reminders", "sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Sweep at 2026-11-24 15:45 UTC:")
