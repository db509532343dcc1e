"""Working days and send windows (docs/reminders.md): Europe/London, England-and-Wales bank
holidays.

Pure: no Flask, no database, no clock. Moments in and out are aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
WINDOW_OPENS = time(9, 0)
WINDOW_CLOSES = time(17, 0)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    """England-and-Wales bank holidays of `year`, substitute ("observed") days included."""
    import holidays  # imported on first use: about 80 ms that most commands never need

    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England-and-Wales bank holiday."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def next_working_day(day: date) -> date:
    """The first working day strictly after `day`."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime was given; use an aware (UTC) datetime")


def london_date(moment: datetime) -> date:
    """The date in London at `moment`."""
    _require_aware(moment)
    return moment.astimezone(LONDON).date()


def london_moment(day: date, at: time = time(0, 0)) -> datetime:
    """`day` at wall-clock time `at` in London, as UTC (09:00 and 17:00 never fall in a gap)."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def next_send_time(moment: datetime) -> datetime:
    """The earliest moment at or after `moment` that is on a working day, 09:00–17:00 London."""
    _require_aware(moment)
    local = moment.astimezone(LONDON)
    day = local.date()
    if is_working_day(day):
        if local.time() < WINDOW_OPENS:
            return london_moment(day, WINDOW_OPENS)
        if local.time() < WINDOW_CLOSES:
            return moment.astimezone(UTC)
    return london_moment(next_working_day(day), WINDOW_OPENS)


def in_send_window(moment: datetime) -> bool:
    """True when partnership mail may go out at `moment`."""
    return next_send_time(moment) == moment.astimezone(UTC)


# --- How dates are written for people ------------------------------------------------------


@lru_cache(maxsize=4096)
def day_words(day: date | None) -> str:
    """A date as people read it: '25 Nov 2026' ('' for none)."""
    return f"{day.day} {day:%b %Y}" if day else ""


def london_day_words(value: date | datetime | None) -> str:
    """'25 Nov 2026'; a datetime is read as its Europe/London date first."""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return day_words(value)


def london_moment_words(value: datetime | None, joiner: str = ", ") -> str:
    """'25 Nov 2026, 10:00' in Europe/London ('' for none)."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{day_words(local.date())}{joiner}{local:%H:%M}"
