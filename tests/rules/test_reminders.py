"""Reminder rules (docs/reminders.md): which reminders are due for a case at a moment, with
their keys."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rules.calendar import LONDON
from app.rules.reminders import (
    ActionFacts,
    CaseFacts,
    CaseNews,
    ContactFacts,
    Settings,
    digest_moment,
    due_digests,
    due_reminders,
    week_label,
)

SETTINGS = Settings(programme_email="team@example.org")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


# Wednesday 25 Nov 2026, 10:00 UTC (= 10:00 London): inside the send window.
NOW = utc(2026, 11, 25, 10, 0)
C9 = ContactFacts(id=9, name="Chair", email="chair@example.org")


def case(**changes) -> CaseFacts:
    """An open case with rep 5 and contact 9, opened today, with fresh activity."""
    base = CaseFacts(
        case_id=7,
        area_code="BL007",
        area_name="Seven Sisters",
        status="contacted",
        flag="under_criteria",
        opened_on=date(2026, 11, 25),
        last_activity_at=NOW,
        created_at=NOW - timedelta(days=30),
        rep_id=5,
        rep_name="Rita Rep",
        rep_email="rita@example.org",
        assigned_at=NOW - timedelta(days=30),  # long enough ago: no "assigned" mail by default
        contacts=(C9,),
    )
    return replace(base, **changes)


def action(due_on, **changes) -> ActionFacts:
    base = ActionFacts(
        id=42, description="Recruit two residents", owner="partnership", due_on=due_on
    )
    return replace(base, **changes)


def keys(reminders) -> list[str]:
    return sorted(r.key for r in reminders)


def at(day: date, hour: int = 10) -> datetime:
    return london(day.year, day.month, day.day, hour, 0)


# --- due soon -------------------------------------------------------------------------------


def test_nothing_is_due_for_a_quiet_new_case():
    assert due_reminders(case(), NOW, SETTINGS) == []


def test_due_soon_exactly_seven_days_before_the_due_date():
    facts = case(actions=(action(date(2026, 12, 2)),))
    (reminder,) = due_reminders(facts, NOW, SETTINGS)
    assert reminder.key == "action:42:2026-12-02:due_soon:c9"
    assert (reminder.kind, reminder.audience) == ("due_soon", "partnership")
    assert (reminder.recipient, reminder.reply_to) == ("chair@example.org", "rita@example.org")
    assert (reminder.case_id, reminder.contact_id, reminder.action.id) == (7, 9, 42)


def test_no_due_soon_eight_days_before_the_due_date():
    assert due_reminders(case(actions=(action(date(2026, 12, 3)),)), NOW, SETTINGS) == []


def test_due_soon_on_the_due_date_itself():
    facts = case(actions=(action(date(2026, 11, 25)),))
    assert keys(due_reminders(facts, NOW, SETTINGS)) == ["action:42:2026-11-25:due_soon:c9"]


def test_due_soon_uses_the_london_date_not_the_utc_date():
    # 23:30 UTC on 24 Nov is still 24 Nov in London (winter), 8 days before 2 Dec.
    facts = case(actions=(action(date(2026, 12, 2)),))
    assert due_reminders(facts, utc(2026, 11, 24, 23, 30), SETTINGS) == []
    # In summer 23:30 UTC is already the next day in London.
    summer = case(actions=(action(date(2026, 7, 9)),), opened_on=date(2026, 7, 1))
    assert keys(due_reminders(summer, utc(2026, 7, 1, 23, 30), SETTINGS)) == [
        "action:42:2026-07-09:due_soon:c9"
    ]


def test_due_soon_days_are_configurable():
    facts = case(actions=(action(date(2026, 12, 9)),))
    assert due_reminders(facts, NOW, SETTINGS) == []
    settings = replace(SETTINGS, due_soon_days=14)
    assert keys(due_reminders(facts, NOW, settings)) == ["action:42:2026-12-09:due_soon:c9"]


# --- overdue --------------------------------------------------------------------------------


def test_not_overdue_on_the_due_date():
    facts = case(actions=(action(date(2026, 11, 25)),))
    assert "overdue" not in {r.kind for r in due_reminders(facts, NOW, SETTINGS)}


@pytest.mark.parametrize(
    ("due_on", "expected"),
    [
        (date(2026, 11, 24), "overdue:1:c9"),  # the day after
        (date(2026, 11, 18), "overdue:1:c9"),  # 6 days after the first
        (date(2026, 11, 17), "overdue:2:c9"),  # 7 days after the first
        (date(2026, 11, 10), "overdue:3:c9"),  # 14 days after the first
        (date(2026, 11, 3), "overdue:3:c9"),  # never a fourth
        (date(2025, 1, 1), "overdue:3:c9"),
    ],
)
def test_overdue_the_day_after_then_weekly_at_most_three_times(due_on, expected):
    facts = case(actions=(action(due_on),))
    assert keys(due_reminders(facts, NOW, SETTINGS)) == [f"action:42:{due_on}:{expected}"]


def test_overdue_burst_returns_only_the_latest_repeat():
    # The system was off for three weeks: repeats 1, 2 and 3 are all past, only 3 is returned.
    facts = case(actions=(action(date(2026, 11, 3)),))
    reminders = due_reminders(facts, NOW, SETTINGS)
    assert [(r.kind, r.repeat) for r in reminders] == [("overdue", 3)]


def test_overdue_repeats_over_a_month_of_daily_sweeps_give_three_distinct_keys():
    facts = case(actions=(action(date(2026, 11, 1)),), opened_on=date(2026, 11, 1))
    seen = set()
    for offset in range(60):
        moment = at(date(2026, 11, 1) + timedelta(days=offset))
        seen |= {r.key for r in due_reminders(facts, moment, SETTINGS) if r.kind == "overdue"}
    assert seen == {
        "action:42:2026-11-01:overdue:1:c9",
        "action:42:2026-11-01:overdue:2:c9",
        "action:42:2026-11-01:overdue:3:c9",
    }


def test_overdue_timings_are_configurable():
    settings = replace(SETTINGS, overdue_every_days=3, overdue_max=5)
    facts = case(actions=(action(date(2026, 11, 10)),))
    # first on 11 Nov, then every 3 days: 14 days after the first is repeat 5 (capped at 5).
    assert keys(due_reminders(facts, NOW, settings)) == ["action:42:2026-11-10:overdue:5:c9"]


# --- which actions, which contacts, which cases ----------------------------------------------


@pytest.mark.parametrize("owner", ["rep", "programme"])
def test_no_partnership_mail_for_actions_the_partnership_does_not_own(owner):
    facts = case(actions=(action(date(2026, 11, 20), owner=owner),))
    assert due_reminders(facts, NOW, SETTINGS) == []


@pytest.mark.parametrize("status", ["done", "dropped"])
def test_no_mail_for_done_or_dropped_actions(status):
    facts = case(actions=(action(date(2026, 11, 20), status=status),))
    assert due_reminders(facts, NOW, SETTINGS) == []


def test_no_mail_for_an_action_without_a_due_date():
    assert due_reminders(case(actions=(action(None),)), NOW, SETTINGS) == []


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_nothing_for_resolved_or_closed_cases(status):
    facts = case(
        status=status,
        actions=(action(date(2026, 11, 20)),),
        opened_on=date(2025, 1, 1),
        last_activity_at=NOW - timedelta(days=100),
        escalated_count=1,
        returned_on=date(2026, 11, 24),
        assigned_at=NOW,
    )
    assert due_reminders(facts, NOW, SETTINGS) == []


@pytest.mark.parametrize("status", ["new", "contacted", "plan_agreed", "monitoring"])
def test_every_open_status_gets_reminders(status):
    facts = case(status=status, actions=(action(date(2026, 11, 20)),))
    assert keys(due_reminders(facts, NOW, SETTINGS)) == ["action:42:2026-11-20:overdue:1:c9"]


def test_each_contact_gets_their_own_key_and_opted_out_contacts_get_none():
    c10 = ContactFacts(id=10, name="Secretary", email="sec@example.org")
    c11 = ContactFacts(id=11, name="Gone", email="gone@example.org", opted_out=True)
    facts = case(contacts=(C9, c10, c11), actions=(action(date(2026, 11, 20)),))
    reminders = due_reminders(facts, NOW, SETTINGS)
    assert keys(reminders) == [
        "action:42:2026-11-20:overdue:1:c10",
        "action:42:2026-11-20:overdue:1:c9",
    ]
    assert {r.recipient for r in reminders} == {"chair@example.org", "sec@example.org"}


def test_a_bouncing_contact_gets_nothing_and_the_others_still_do():
    bouncing = ContactFacts(id=12, name="Old", email="old@example.org", bouncing=True)
    facts = case(contacts=(C9, bouncing), actions=(action(date(2026, 11, 20)),))
    assert keys(due_reminders(facts, NOW, SETTINGS)) == ["action:42:2026-11-20:overdue:1:c9"]


def test_all_contacts_opted_out_means_no_partnership_mail_but_rep_mail_continues():
    facts = case(
        contacts=(replace(C9, opted_out=True),),
        actions=(action(date(2026, 11, 20)),),
        last_activity_at=NOW - timedelta(days=28),
    )
    assert [r.audience for r in due_reminders(facts, NOW, SETTINGS)] == ["rep"]


def test_unassigned_case_partnership_mail_has_no_reply_to():
    facts = case(rep_id=None, rep_email=None, rep_name=None, actions=(action(date(2026, 12, 1)),))
    (reminder,) = due_reminders(facts, NOW, SETTINGS)
    assert reminder.reply_to is None


# --- check-ins ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opened_on", "expected"),
    [
        (date(2026, 10, 15), []),  # 41 days
        (date(2026, 10, 14), ["case:7:checkin:1:c9"]),  # 42 days
        (date(2026, 9, 2), ["case:7:checkin:2:c9"]),  # 84 days
        (date(2026, 9, 3), ["case:7:checkin:1:c9"]),  # 83 days
        (date(2021, 9, 30), ["case:7:checkin:44:c9"]),  # years later: one mail, the latest
    ],
)
def test_checkin_every_42_days_from_opening(opened_on, expected):
    assert keys(due_reminders(case(opened_on=opened_on), NOW, SETTINGS)) == expected


def test_checkin_is_partnership_mail_without_an_action():
    (reminder,) = due_reminders(case(opened_on=date(2026, 10, 14)), NOW, SETTINGS)
    assert (reminder.kind, reminder.audience, reminder.action, reminder.repeat) == (
        "checkin",
        "partnership",
        None,
        1,
    )


# --- the working-day shift ------------------------------------------------------------------


def test_partnership_mail_found_on_a_saturday_waits_until_monday_nine():
    saturday = london(2026, 11, 28, 11, 0)
    facts = case(actions=(action(date(2026, 12, 4)),), last_activity_at=saturday)
    (reminder,) = due_reminders(facts, saturday, SETTINGS)
    assert reminder.not_before == london(2026, 11, 30, 9, 0)


def test_partnership_mail_found_inside_the_window_goes_now():
    facts = case(actions=(action(date(2026, 12, 2)),))
    (reminder,) = due_reminders(facts, NOW, SETTINGS)
    assert reminder.not_before == NOW


def test_christmas_2026_partnership_mail_waits_until_the_29th_but_rep_mail_does_not():
    christmas = london(2026, 12, 25, 10, 0)
    facts = case(
        actions=(action(date(2027, 1, 1)),),  # due soon from 25 Dec
        last_activity_at=christmas - timedelta(days=28),  # stale on Christmas Day
    )
    reminders = {r.kind: r for r in due_reminders(facts, christmas, SETTINGS)}
    assert set(reminders) == {"due_soon", "stale"}
    assert reminders["due_soon"].not_before == london(2026, 12, 29, 9, 0)
    assert reminders["due_soon"].not_before == utc(2026, 12, 29, 9, 0)  # GMT
    assert reminders["stale"].not_before == christmas


def test_evening_partnership_mail_waits_until_next_morning_in_summer_time():
    evening = london(2026, 7, 8, 18, 0)
    facts = case(
        opened_on=date(2026, 7, 1), last_activity_at=evening, actions=(action(date(2026, 7, 10)),)
    )
    (reminder,) = due_reminders(facts, evening, SETTINGS)
    assert reminder.not_before == utc(2026, 7, 9, 8, 0)  # 09:00 BST


# --- rep and programme mail -----------------------------------------------------------------


def test_new_case_is_announced_to_the_rep_at_once_even_at_night():
    night = london(2026, 11, 28, 23, 0)  # a Saturday night
    facts = case(assigned_at=night, last_activity_at=night, opened_on=date(2026, 11, 28))
    (reminder,) = due_reminders(facts, night, SETTINGS)
    assert (reminder.key, reminder.kind, reminder.audience) == (
        "case:7:assigned:5",
        "new_case",
        "rep",
    )
    assert (reminder.recipient, reminder.not_before) == ("rita@example.org", night)


def test_reassignment_announces_the_case_to_the_new_rep():
    facts = case(rep_id=6, rep_email="sam@example.org", rep_name="Sam", assigned_at=NOW)
    assert keys(due_reminders(facts, NOW, SETTINGS)) == ["case:7:assigned:6"]


def test_an_old_assignment_is_not_announced():
    facts = case(assigned_at=NOW - timedelta(days=15))
    assert due_reminders(facts, NOW, SETTINGS) == []


def test_unassigned_case_sends_no_rep_mail():
    facts = case(
        rep_id=None,
        rep_email=None,
        rep_name=None,
        assigned_at=NOW,
        last_activity_at=NOW - timedelta(days=40),
    )
    assert due_reminders(facts, NOW, SETTINGS) == []


@pytest.mark.parametrize(
    ("quiet_days", "expected"),
    [
        (27, []),
        (28, ["case:7:stale:2026-10-28:1"]),
        (41, ["case:7:stale:2026-10-15:1"]),
        (42, ["case:7:stale:2026-10-14:2"]),
        (56, ["case:7:stale:2026-09-30:3"]),
        (400, ["case:7:stale:2025-10-21:27"]),  # a burst would be 27 mails: only the latest
    ],
)
def test_stale_after_28_quiet_days_then_every_14(quiet_days, expected):
    facts = case(last_activity_at=NOW - timedelta(days=quiet_days))
    reminders = due_reminders(facts, NOW, SETTINGS)
    assert keys(reminders) == expected
    assert all(r.audience == "rep" for r in reminders)


def test_new_activity_restarts_the_stale_count_under_a_new_anchor():
    before = due_reminders(case(last_activity_at=NOW - timedelta(days=30)), NOW, SETTINGS)
    later = NOW + timedelta(days=40)
    after = due_reminders(case(last_activity_at=NOW + timedelta(days=10)), later, SETTINGS)
    assert keys(before) == ["case:7:stale:2026-10-26:1"]
    assert keys(after) == ["case:7:stale:2026-12-05:1"]


def test_escalation_tells_rep_and_programme_team_once_per_escalation():
    facts = case(escalated_count=2, escalated_at=NOW - timedelta(hours=1))
    reminders = due_reminders(facts, NOW, SETTINGS)
    assert keys(reminders) == ["case:7:escalated:2:programme", "case:7:escalated:2:rep"]
    programme = next(r for r in reminders if r.audience == "programme")
    assert (programme.recipient, programme.not_before) == ("team@example.org", NOW)


def test_no_programme_mail_without_a_programme_address():
    facts = case(escalated_count=1, escalated_at=NOW)
    reminders = due_reminders(facts, NOW, replace(SETTINGS, programme_email=None))
    assert keys(reminders) == ["case:7:escalated:1:rep"]


def test_return_within_criteria_tells_rep_and_programme_team():
    facts = case(returned_on=date(2026, 11, 20), returned_at=NOW - timedelta(days=2))
    assert keys(due_reminders(facts, NOW, SETTINGS)) == [
        "case:7:returned:programme",
        "case:7:returned:rep",
    ]


def test_an_old_return_is_not_announced():
    facts = case(returned_on=date(2022, 1, 1), returned_at=utc(2022, 1, 1, 12, 0))
    assert due_reminders(facts, NOW, SETTINGS) == []


def test_a_notice_from_the_future_is_not_mailed_yet():
    facts = case(escalated_count=1, escalated_at=NOW + timedelta(hours=1))
    assert due_reminders(facts, NOW, SETTINGS) == []


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        due_reminders(case(), datetime(2026, 11, 25, 10, 0), SETTINGS)


# --- properties -----------------------------------------------------------------------------

days = st.integers(min_value=-60, max_value=400)


@given(due=days, opened=st.integers(min_value=0, max_value=400), quiet=st.integers(0, 400))
def test_keys_are_unique_and_partnership_mail_is_always_inside_the_window(due, opened, quiet):
    moment = NOW + timedelta(hours=quiet % 200)
    facts = case(
        opened_on=date(2026, 11, 25) - timedelta(days=opened),
        last_activity_at=NOW - timedelta(days=quiet),
        contacts=(C9, ContactFacts(id=10, name="B", email="b@example.org")),
        actions=(
            action(date(2026, 11, 25) + timedelta(days=due)),
            action(date(2026, 11, 25) - timedelta(days=due), id=43),
        ),
    )
    reminders = due_reminders(facts, moment, SETTINGS)
    assert len({r.key for r in reminders}) == len(reminders)
    for reminder in reminders:
        assert reminder.not_before >= moment
        if reminder.audience == "partnership":
            local = reminder.not_before.astimezone(LONDON)
            assert local.weekday() < 5 and 9 <= local.hour < 17
        else:
            assert reminder.not_before == moment
    # never more than one repeat of one reminder per recipient
    identities = [(r.kind, r.case_id, r.action and r.action.id, r.recipient) for r in reminders]
    assert len(identities) == len(set(identities))


@given(st.integers(min_value=0, max_value=120))
def test_at_most_one_overdue_and_one_checkin_repeat_at_any_moment(offset):
    moment = at(date(2026, 11, 1) + timedelta(days=offset))
    facts = case(actions=(action(date(2026, 11, 1)),), opened_on=date(2026, 8, 1))
    kinds = [r.kind for r in due_reminders(facts, moment, SETTINGS) if r.audience == "partnership"]
    assert kinds.count("overdue") <= 1 and kinds.count("checkin") <= 1


# --- weekly digests -------------------------------------------------------------------------


def test_digest_moment_is_monday_eight_london():
    # Wednesday 25 Nov 2026 → Monday 23 Nov 08:00 GMT.
    assert digest_moment(NOW, SETTINGS) == utc(2026, 11, 23, 8, 0)
    assert week_label(digest_moment(NOW, SETTINGS)) == "2026-W48"


def test_before_monday_eight_the_previous_week_is_current():
    assert digest_moment(london(2026, 11, 30, 7, 59), SETTINGS) == utc(2026, 11, 23, 8, 0)
    assert digest_moment(london(2026, 11, 30, 8, 0), SETTINGS) == utc(2026, 11, 30, 8, 0)


def test_digest_moment_in_summer_is_seven_utc():
    assert digest_moment(utc(2026, 7, 8, 12, 0), SETTINGS) == utc(2026, 7, 6, 7, 0)


def test_week_label_uses_the_iso_year():
    assert week_label(utc(2026, 12, 28, 9, 0)) == "2026-W53"
    assert week_label(utc(2027, 1, 4, 9, 0)) == "2027-W01"


def test_rep_digest_lists_their_open_cases_and_overdue_actions():
    monday = london(2026, 11, 30, 8, 0)
    mine = case(
        actions=(action(date(2026, 11, 20), owner="rep"), action(date(2026, 12, 20), id=43))
    )
    other = case(case_id=8, area_code="BL008", rep_id=6, rep_email="sam@example.org")
    closed = case(case_id=9, area_code="BL009", status="closed")
    reminders = {r.key: r for r in due_digests([mine, other, closed], [], monday, SETTINGS)}
    assert set(reminders) == {
        "digest:rep:5:2026-W49",
        "digest:rep:6:2026-W49",
        "digest:programme:2026-W49",
    }
    digest = reminders["digest:rep:5:2026-W49"]
    assert (digest.recipient, digest.kind, digest.not_before) == (
        "rita@example.org",
        "rep_digest",
        monday,
    )
    assert [c.case_id for c in digest.data["cases"]] == [7]
    assert [(c.case_id, a.id) for c, a in digest.data["overdue"]] == [(7, 42)]


def test_programme_digest_covers_the_week_before_the_digest_moment():
    monday = london(2026, 11, 30, 8, 0)
    news = [
        CaseNews(1, "BL001", "One", "opened", london(2026, 11, 23, 8, 0)),  # first moment in
        CaseNews(2, "BL002", "Two", "escalated", london(2026, 11, 27, 12, 0)),
        CaseNews(3, "BL003", "Three", "returned", london(2026, 11, 29, 23, 0)),
        CaseNews(4, "BL004", "Four", "opened", london(2026, 11, 23, 7, 59)),  # the week before
        CaseNews(5, "BL005", "Five", "opened", london(2026, 11, 30, 8, 0)),  # next week's
    ]
    stale = case(case_id=10, area_code="BL010", last_activity_at=monday - timedelta(days=29))
    unassigned = case(case_id=11, area_code="BL011", rep_id=None, rep_email=None)
    reminders = due_digests([stale, unassigned], news, monday + timedelta(hours=2), SETTINGS)
    programme = next(r for r in reminders if r.kind == "programme_digest")
    assert programme.key == "digest:programme:2026-W49"
    assert programme.recipient == "team@example.org"
    data = programme.data
    assert [n.case_id for n in data["opened"]] == [1]
    assert [n.case_id for n in data["escalated"]] == [2]
    assert [n.case_id for n in data["returned"]] == [3]
    assert [c.case_id for c in data["stale"]] == [10]
    assert [c.case_id for c in data["unassigned"]] == [11]


def test_no_rep_digest_for_a_rep_without_open_cases():
    monday = london(2026, 11, 30, 9, 0)
    reminders = due_digests([case(status="resolved")], [], monday, SETTINGS)
    assert [r.key for r in reminders] == ["digest:programme:2026-W49"]


def test_digest_key_is_stable_through_the_week():
    keys_seen = {
        r.key
        for offset in range(7 * 24)
        for r in due_digests(
            [case()], [], london(2026, 11, 30, 8, 0) + timedelta(hours=offset), SETTINGS
        )
    }
    assert keys_seen == {"digest:rep:5:2026-W49", "digest:programme:2026-W49"}


def test_digest_settings_move_the_moment():
    settings = replace(SETTINGS, digest_weekday=4, digest_at=time(16, 30))
    assert digest_moment(NOW, settings) == london(2026, 11, 20, 16, 30)
