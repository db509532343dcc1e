"""The read side of casework: 'My cases' rows and the case page's data."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.operations import case_actions as ops
from app.operations.snapshots import EntryInput
from app.queries.case_page import case_page, current_roster, member_trend, timeline
from app.queries.my_cases import my_cases
from tests.factories import add_snapshot, make_area, make_user
from tests.querycount import count_queries


@pytest.fixture
def rep(app):
    return make_user("rep")


def new_case(rep, *reviews):
    area = make_area(rep=rep)
    for year, (members, residents) in enumerate(reviews, 2024):
        add_snapshot(area, members, residents, year=year)
    return db.session.scalar(select(Case).where(Case.area_id == area.id))


def test_my_cases_orders_by_urgency_with_next_action(rep, now):
    calm = new_case(rep, (6, 4))
    escalated = new_case(rep, (8, 5), (7, 5))
    overdue = new_case(rep, (6, 4))
    ops.add_action(
        overdue,
        description="Overdue thing",
        owner="rep",
        due_on=date(2026, 11, 20),
        actor=rep,
        now=now - timedelta(days=10),
    )
    ops.add_action(
        overdue,
        description="Later thing",
        owner="rep",
        due_on=date(2026, 12, 20),
        actor=rep,
        now=now,
    )
    calm.last_activity_at = now - timedelta(days=1)
    escalated.last_activity_at = overdue.last_activity_at = now
    db.session.flush()
    rows = my_cases(rep, now)
    assert [r.case_id for r in rows] == [overdue.id, escalated.id, calm.id]
    first = rows[0]
    assert first.overdue and not first.escalated
    assert first.next_action.description == "Overdue thing"
    assert first.next_action.overdue and first.next_action.due_on == date(2026, 11, 20)
    assert rows[1].escalated and rows[1].next_action is None
    assert rows[2].reasons == ("fewer than the required number of members",)
    assert (rows[2].members, rows[2].residents, rows[2].status_words) == (6, 4, "New")


def test_my_cases_leaves_out_closed_and_other_reps_cases(rep, now):
    resolved = new_case(rep, (6, 4), (10, 6))
    new_case(make_user("rep"), (6, 4))
    assert resolved.status == "resolved"
    assert my_cases(rep, now) == []


def test_my_cases_query_count_does_not_grow(rep, now):
    def count_for(user):
        db.session.expire_all()
        db.session.refresh(user)
        with count_queries() as counter:
            rows = my_cases(user, now)
        return counter.count, len(rows)

    for _ in range(2):
        ops.add_action(
            new_case(rep, (6, 4)),
            description="a",
            owner="rep",
            due_on=date(2026, 12, 1),
            actor=rep,
            now=now,
        )
    other = make_user("rep")
    for _ in range(20):
        ops.add_action(
            new_case(other, (6, 4)),
            description="a",
            owner="rep",
            due_on=date(2026, 12, 1),
            actor=other,
            now=now,
        )
    db.session.commit()
    assert count_for(rep) == (2, 2)
    assert count_for(other) == (2, 20)


def test_member_trend_lists_annual_reviews_only(rep, now):
    case = new_case(rep, (10, 6), (7, 5))
    add_snapshot(case.area, 9, 6, on=date(2026, 1, 5))
    trend = member_trend(case.area_id)
    assert [(t.year, t.members, t.residents, t.words) for t in trend] == [
        (2024, 10, 6, "Within criteria"),
        (2025, 7, 5, "Under criteria"),
    ]


def test_current_roster_is_the_latest_snapshot_and_an_update_wins_a_tie(rep, now):
    case = new_case(rep, (6, 4))
    ops.update_membership(
        case,
        [EntryInput("x1", "Xena", True, "chair"), EntryInput("x2", "Yusuf", False, "worker")],
        rep,
        now,
    )
    on, roster = current_roster(case.area_id)
    assert on == date(2026, 11, 25)
    assert [(r.person_id, r.name, r.resident, r.role) for r in roster] == [
        ("x1", "Xena", True, "chair"),
        ("x2", "Yusuf", False, "worker"),
    ]
    add_snapshot(case.area, 7, 5, year=2026, on=date(2026, 11, 25))  # same day, annual
    assert [r.name for r in current_roster(case.area_id)[1]] == ["Xena", "Yusuf"]


def test_timeline_groups(rep, now):
    case = new_case(rep, (6, 4))
    ops.add_note(case, "hello", rep, now)
    ops.change_status(case, "contacted", rep, now + timedelta(minutes=1))
    ops.add_action(case, description="a", owner="rep", due_on=date(2026, 12, 1), actor=rep, now=now)
    db.session.flush()
    kinds = {group: [e.kind for e in timeline(case.id, group)] for group in ("notes", "plan")}
    assert kinds == {"notes": ["note"], "plan": ["action_added"]}
    everything = [e.kind for e in timeline(case.id)]
    assert everything[0] == "status_changed"  # newest first
    assert set(everything) == {"opened", "assigned", "note", "status_changed", "action_added"}
    assert [e.kind for e in timeline(case.id, "nonsense")] == everything


def test_case_page_offers_allowed_transitions_without_close(rep, now):
    case = new_case(rep, (6, 4))
    programme = make_user("programme")
    # "contacted" comes from recording a contact; "closed" has its own page.
    assert case_page(case.id, rep, now).transitions == ()
    assert case_page(case.id, programme, now).transitions == ()
    case.status = "monitoring"
    db.session.flush()
    assert case_page(case.id, rep, now).transitions == ("plan_agreed",)


def test_case_page_query_count_does_not_grow(rep, now):
    def count_for(case):
        db.session.expire_all()
        with count_queries() as counter:
            page = case_page(case.id, rep, now)
            _ = [a.description for a in page.open_actions], [e.actor for e in page.events]
        return counter.count, len(page.events)

    small, big = new_case(rep, (6, 4)), new_case(rep, *[(6, 4)] * 3)
    for case, n in ((small, 1), (big, 15)):
        for i in range(n):
            ops.add_note(case, f"n{i}", rep, now)
            ops.add_action(
                case,
                description=f"a{i}",
                owner="rep",
                due_on=date(2026, 12, 1),
                actor=rep,
                now=now,
            )
    db.session.commit()
    small_count, small_events = count_for(small)
    big_count, big_events = count_for(big)
    assert big_events > small_events
    assert small_count == big_count <= 10
