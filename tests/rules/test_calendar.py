"""Working days and the partnership send window, Europe/London (docs/reminders.md)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rules.calendar import (
    LONDON,
    in_send_window,
    is_working_day,
    london_moment,
    next_send_time,
    next_working_day,
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


# --- working days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 11, 28),  # Saturday
        date(2026, 11, 29),  # Sunday
        date(2026, 1, 1),  # New Year's Day
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),  # early May bank holiday
        date(2026, 5, 25),  # spring bank holiday
        date(2026, 8, 31),  # summer bank holiday
        date(2026, 12, 25),  # Christmas Day (Friday)
        date(2026, 12, 26),  # Boxing Day (Saturday)
        date(2026, 12, 28),  # Boxing Day substitute (Monday)
        date(2027, 12, 27),  # Christmas Day 2027 falls on a Saturday: substitute Monday
        date(2027, 12, 28),  # Boxing Day 2027 falls on a Sunday: substitute Tuesday
    ],
)
def test_weekends_and_bank_holidays_are_not_working_days(day):
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 11, 25),  # an ordinary Wednesday
        date(2026, 12, 24),  # Christmas Eve is not a bank holiday
        date(2026, 12, 29),
        date(2026, 4, 2),  # Maundy Thursday
        date(2026, 4, 7),  # Tuesday after Easter
        date(2026, 3, 17),  # St Patrick's Day: a bank holiday in Northern Ireland only
        date(2026, 11, 30),  # St Andrew's Day: Scotland only
        date(2026, 8, 3),  # Scotland's summer holiday, not England's
    ],
)
def test_ordinary_weekdays_and_other_nations_holidays_are_working_days(day):
    assert is_working_day(day)


def test_next_working_day_after_christmas_2026_is_the_29th():
    assert next_working_day(date(2026, 12, 24)) == date(2026, 12, 29)


def test_next_working_day_after_maundy_thursday_is_the_tuesday_after_easter():
    assert next_working_day(date(2026, 4, 2)) == date(2026, 4, 7)


def test_next_working_day_from_friday_is_monday():
    assert next_working_day(date(2026, 11, 27)) == date(2026, 11, 30)


# --- the send window ------------------------------------------------------------------------


def test_inside_the_window_the_moment_is_kept():
    moment = utc(2026, 11, 25, 10, 30, 15)
    assert next_send_time(moment) == moment


def test_before_nine_waits_until_nine_the_same_day():
    assert next_send_time(london(2026, 11, 25, 6, 15)) == london(2026, 11, 25, 9, 0)


def test_nine_sharp_is_inside_the_window():
    assert next_send_time(london(2026, 11, 25, 9, 0)) == london(2026, 11, 25, 9, 0)


def test_seventeen_sharp_waits_until_the_next_working_morning():
    assert next_send_time(london(2026, 11, 25, 17, 0)) == london(2026, 11, 26, 9, 0)


def test_one_second_before_seventeen_is_inside_the_window():
    moment = london(2026, 11, 25, 16, 59, 59)
    assert next_send_time(moment) == moment


def test_friday_evening_waits_until_monday_morning():
    assert next_send_time(london(2026, 11, 27, 18, 0)) == london(2026, 11, 30, 9, 0)


def test_saturday_noon_waits_until_monday_morning():
    assert next_send_time(london(2026, 11, 28, 12, 0)) == london(2026, 11, 30, 9, 0)


@pytest.mark.parametrize(
    "moment",
    [
        london(2026, 12, 24, 17, 30),
        london(2026, 12, 25, 10, 0),
        london(2026, 12, 26, 10, 0),
        london(2026, 12, 27, 23, 59),
        london(2026, 12, 28, 8, 0),
        london(2026, 12, 28, 12, 0),
        london(2026, 12, 29, 0, 0),
    ],
)
def test_christmas_week_2026_waits_until_the_29th_at_nine(moment):
    # Winter: 09:00 London is 09:00 UTC.
    assert next_send_time(moment) == utc(2026, 12, 29, 9, 0)


def test_easter_weekend_waits_until_tuesday():
    assert next_send_time(london(2026, 4, 2, 17, 5)) == london(2026, 4, 7, 9, 0)


def test_nine_london_is_eight_utc_in_summer():
    assert next_send_time(utc(2026, 7, 1, 6, 0)) == utc(2026, 7, 1, 8, 0)


def test_nine_london_is_nine_utc_in_winter():
    assert next_send_time(utc(2026, 1, 7, 6, 0)) == utc(2026, 1, 7, 9, 0)


def test_window_closes_at_sixteen_utc_in_summer():
    assert next_send_time(utc(2026, 7, 1, 16, 0)) == utc(2026, 7, 2, 8, 0)
    assert next_send_time(utc(2026, 7, 1, 15, 59)) == utc(2026, 7, 1, 15, 59)


def test_clocks_go_forward_last_sunday_of_march():
    # 29 Mar 2026: clocks go forward at 01:00 UTC. Saturday evening (GMT) → Monday 09:00 BST.
    assert next_send_time(utc(2026, 3, 28, 20, 0)) == utc(2026, 3, 30, 8, 0)
    # Friday afternoon is still GMT: 16:30 UTC is 16:30 London, inside the window.
    assert next_send_time(utc(2026, 3, 27, 16, 30)) == utc(2026, 3, 27, 16, 30)


def test_clocks_go_back_last_sunday_of_october():
    # 25 Oct 2026: clocks go back at 01:00 UTC. Saturday (BST) → Monday 09:00 GMT.
    assert next_send_time(utc(2026, 10, 24, 10, 0)) == utc(2026, 10, 26, 9, 0)
    # Friday 16:30 UTC is 17:30 BST: closed, so Monday 09:00 GMT.
    assert next_send_time(utc(2026, 10, 23, 16, 30)) == utc(2026, 10, 26, 9, 0)
    # Monday 08:30 UTC is 08:30 GMT: waits half an hour.
    assert next_send_time(utc(2026, 10, 26, 8, 30)) == utc(2026, 10, 26, 9, 0)


def test_a_moment_in_another_zone_is_understood():
    from zoneinfo import ZoneInfo

    new_york = datetime(2026, 11, 25, 5, 0, tzinfo=ZoneInfo("America/New_York"))  # 10:00 UTC
    assert next_send_time(new_york) == utc(2026, 11, 25, 10, 0)


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        next_send_time(datetime(2026, 11, 25, 10, 0))


def test_in_send_window():
    assert in_send_window(london(2026, 11, 25, 12, 0))
    assert not in_send_window(london(2026, 11, 28, 12, 0))
    assert not in_send_window(london(2026, 11, 25, 8, 59))


def test_london_moment_across_the_change():
    assert london_moment(date(2026, 3, 29)) == utc(2026, 3, 29, 0, 0)  # still GMT at midnight
    assert london_moment(date(2026, 3, 30)) == utc(2026, 3, 29, 23, 0)


# --- properties -----------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


def window_of(moment: datetime) -> bool:
    local = moment.astimezone(LONDON)
    return is_working_day(local.date()) and 9 <= local.hour < 17


@given(moments)
def test_result_is_a_working_day_inside_the_window_and_never_before_the_input(moment):
    result = next_send_time(moment)
    assert result.tzinfo is not None
    assert result >= moment
    assert window_of(result)


@given(moments)
def test_result_is_the_earliest_such_moment(moment):
    result = next_send_time(moment)
    if result == moment:
        return
    # Nothing between moment and result is sendable: the result is 09:00 London sharp and
    # every minute before it down to the input is outside the window.
    local = result.astimezone(LONDON)
    assert (local.hour, local.minute, local.second, local.microsecond) == (9, 0, 0, 0)
    probe = result - timedelta(minutes=1)
    while probe > moment:
        assert not window_of(probe)
        probe -= timedelta(hours=1)
    assert not window_of(moment)


@given(moments)
def test_is_idempotent(moment):
    once = next_send_time(moment)
    assert next_send_time(once) == once


# --- how dates are written -----------------------------------------------------------------


def test_dates_are_written_day_month_year_without_leading_zero():
    from app.rules.calendar import day_words

    assert day_words(date(2026, 12, 5)) == "5 Dec 2026"
    assert day_words(None) == ""


def test_a_moment_is_written_as_its_london_date_and_time_across_the_clock_change():
    from app.rules.calendar import london_day_words, london_moment_words

    late_summer_night = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 00:30 BST on the 25th
    assert london_day_words(late_summer_night) == "25 Oct 2026"
    assert london_moment_words(late_summer_night) == "25 Oct 2026, 00:30"
    winter = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # GMT: the same wall-clock time
    assert london_moment_words(winter, " at ") == "25 Nov 2026 at 10:00"
    assert london_moment_words(None) == ""
