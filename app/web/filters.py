"""How every page writes dates and times: Europe/London, in the calendar module's words.

Registered once on the app as Jinja filters: `{{ case.opened_on|london_date }}`,
`{{ event.created_at|london_datetime }}`, `{{ message.sent_at|london_time }}`; the argument
is what to show when there is no value (`|london_date("—")`), '' by default."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from app.rules.calendar import LONDON, london_day_words, london_moment_words


def london_date(value: date | datetime | None, empty: str = "") -> str:
    """'25 Nov 2026' (a datetime is read as its Europe/London date)."""
    return london_day_words(value) if value is not None else empty


def london_datetime(value: datetime | None, empty: str = "") -> str:
    """'25 Nov 2026, 10:00' in Europe/London."""
    return london_moment_words(value) if value is not None else empty


def london_time(value: datetime | None, empty: str = "") -> str:
    """'10:00' in Europe/London."""
    return f"{value.astimezone(LONDON):%H:%M}" if value is not None else empty


FILTERS = {
    "london_date": london_date,
    "london_datetime": london_datetime,
    "london_time": london_time,
}


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
