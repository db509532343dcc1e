"""`flask` command groups: thin wrappers over operations and queries.

Each module lists its click commands in `commands`; they are registered here."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

MODULES = (
    "imports",
    "users",
    "cases",
    "insights",
    "demo",
    "reminders",
    "mail",
    "scheduler",
    "health",
)


def register_cli(app: Flask) -> None:
    for name in MODULES:
        module = import_module(f"app.cli.{name}")
        for command in module.commands:
            app.cli.add_command(command)
