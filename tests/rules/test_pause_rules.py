"""Pausing partnership reminders: when a pause holds, what a valid pause is, what it holds back,
and the action keys that restart a rescheduled action's reminders."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from app.rules.calendar import LONDON
from app.rules.pause import PauseLimits, is_paused, pause_errors, pause_has_ended
from app.rules.reminders import (
    ActionFacts,
    CaseFacts,
    ContactFacts,
    Settings,
    assignment_notice,
    due_reminders,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # Wednesday, inside the send window
LIMITS = PauseLimits(max_days=366, max_reason=500)
SETTINGS = Settings(programme_email="team@example.org")


def facts(**changes) -> CaseFacts:
    base = CaseFacts(
        case_id=7,
        area_code="BL007",
        area_name="Seven Sisters",
        status="contacted",
        flag="under_criteria",
        opened_on=date(2026, 8, 1),  # 116 days: a check-in is due
        last_activity_at=NOW - timedelta(days=40),  # stale: rep mail is due
        rep_id=5,
        rep_name="Rita Rep",
        rep_email="rita@example.org",
        assigned_at=NOW - timedelta(days=60),
        contacts=(ContactFacts(id=9, name="Chair", email="chair@example.org"),),
        actions=(
            ActionFacts(
                id=42, description="Recruit", owner="partnership", due_on=date(2026, 11, 20)
            ),
        ),
    )
    return replace(base, **changes)


def test_a_pause_until_a_date_holds_through_the_day_before_in_london():
    until = date(2026, 12, 1)
    assert is_paused(until, datetime(2026, 11, 30, 23, 59, tzinfo=LONDON))
    assert not is_paused(until, datetime(2026, 12, 1, 0, 0, tzinfo=LONDON))
    assert pause_has_ended(until, datetime(2026, 12, 1, 0, 0, tzinfo=LONDON))
    # 23:30 UTC on 30 June is already 1 July in London (summer time).
    assert not is_paused(date(2026, 7, 1), datetime(2026, 6, 30, 23, 30, tzinfo=UTC))


def test_no_pause_is_neither_paused_nor_ended():
    assert not is_paused(None, NOW)
    assert not pause_has_ended(None, NOW)


@pytest.mark.parametrize(
    ("until", "reason", "field", "words"),
    [
        (None, "Summer break", "paused_until", "Enter the date"),
        (date(2026, 11, 25), "Summer break", "paused_until", "after today"),
        (date(2026, 11, 1), "Summer break", "paused_until", "after today"),
        (date(2027, 11, 27), "Summer break", "paused_until", "at most 366 days"),
        (date(2026, 12, 25), "   ", "pause_reason", "Say why"),
        (date(2026, 12, 25), "x" * 501, "pause_reason", "at most 500 characters"),
    ],
)
def test_a_pause_needs_a_date_after_today_within_the_limit_and_a_reason(
    until, reason, field, words
):
    errors = pause_errors(until, reason, NOW, LIMITS)
    assert list(errors) == [field]
    assert words in errors[field]


def test_a_pause_tomorrow_or_at_the_limit_is_valid():
    assert pause_errors(date(2026, 11, 26), "Break", NOW, LIMITS) == {}
    assert pause_errors(NOW.date() + timedelta(days=366), "x" * 500, NOW, LIMITS) == {}


def test_while_paused_no_partnership_reminder_is_due_but_rep_mail_goes_on():
    open_case = facts()
    kinds = {r.kind for r in due_reminders(open_case, NOW, SETTINGS)}
    assert {"overdue", "checkin", "stale"} <= kinds
    paused = replace(open_case, reminders_paused_until=date(2026, 12, 1))
    assert {r.kind for r in due_reminders(paused, NOW, SETTINGS)} == {"stale"}
    # The day the pause ends, the partnership's reminders are due again.
    ended = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert {"overdue", "checkin"} <= {r.kind for r in due_reminders(paused, ended, SETTINGS)}


def test_an_action_key_carries_its_due_date_so_a_new_date_gives_new_keys():
    before = {r.key for r in due_reminders(facts(), NOW, SETTINGS) if r.kind == "overdue"}
    moved = facts(
        actions=(
            ActionFacts(
                id=42, description="Recruit", owner="partnership", due_on=date(2026, 11, 27)
            ),
        )
    )
    after = {r.key for r in due_reminders(moved, NOW, SETTINGS) if r.action is not None}
    assert before == {"action:42:2026-11-20:overdue:1:c9"}
    assert after == {"action:42:2026-11-27:due_soon:c9"}


def test_the_assignment_notice_has_the_sweeps_key_and_needs_an_open_case_with_a_rep():
    notice = assignment_notice(facts(assigned_at=NOW), NOW)
    swept = [
        r for r in due_reminders(facts(assigned_at=NOW), NOW, SETTINGS) if r.kind == "new_case"
    ]
    assert notice is not None and [notice.key] == [r.key for r in swept] == ["case:7:assigned:5"]
    assert (notice.recipient, notice.not_before) == ("rita@example.org", NOW)
    assert assignment_notice(facts(rep_id=None, rep_email=None), NOW) is None
    assert assignment_notice(facts(rep_email=None), NOW) is None  # an inactive rep
    assert assignment_notice(facts(status="closed"), NOW) is None
