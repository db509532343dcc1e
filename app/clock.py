"""The one clock: every view, command and job that needs "now" asks here.

Operations still take `now` as a parameter (so they stay testable without a clock); this is
where the edges get it from. Tests freeze it through the app's `CLOCK_NOW` setting (see the
`freeze_clock` fixture), never by patching modules."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, has_app_context

CONFIG_KEY = "CLOCK_NOW"


def now() -> datetime:
    """The current moment as an aware UTC datetime (the app's frozen time, if one is set)."""
    if has_app_context():
        frozen = current_app.config.get(CONFIG_KEY)
        if frozen is not None:
            return frozen
    return datetime.now(UTC)
