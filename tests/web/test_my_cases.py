"""'My cases': a rep's open cases, most urgent first, in a fixed number of queries."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Case
from app.operations import case_actions as ops
from app.rules.calendar import london_date
from tests.factories import add_snapshot, make_area, make_user
from tests.querycount import count_queries
from tests.web.test_case_page import login_as


@pytest.fixture
def rep(app):
    user = make_user("rep")
    db.session.commit()
    return user


def case_in_new_area(rep, *reviews, name=None):
    """An area of `rep` with annual reviews (members, residents) from 2024 on; its case."""
    area = make_area(rep=rep)
    if name:
        area.name = name
    for year, (members, residents) in enumerate(reviews, 2024):
        add_snapshot(area, members, residents, year=year)
    db.session.flush()
    return db.session.scalar(select(Case).where(Case.area_id == area.id))


def add_action(case, due_in_days, description):
    """An open action due `due_in_days` from today (London; negative: overdue)."""
    now = clock.now()
    created = now + timedelta(days=min(0, due_in_days) - 1)  # added before it was due
    return ops.add_action(
        case,
        description=description,
        owner="partnership",
        due_on=london_date(now) + timedelta(days=due_in_days),
        actor=case.rep,
        now=created,
    )


def area_order(html):
    return re.findall(r'<th scope="row">\s*<a href="/cases/\d+">([^<]+)</a>', html)


def test_rep_without_cases_sees_the_empty_state(client, rep):
    login_as(client, rep)
    html = client.get("/my-cases").get_data(as_text=True)
    assert "You have no open cases." in html
    assert "<table" not in html


def test_cases_are_ordered_overdue_then_escalated_then_oldest_untouched(client, rep):
    now = clock.now()
    fresh = case_in_new_area(rep, (6, 4), name="Fresh")
    stale = case_in_new_area(rep, (6, 4), name="Stale")
    older = case_in_new_area(rep, (6, 4), name="Older")
    escalated = case_in_new_area(rep, (8, 5), (7, 5), name="Escalated")
    overdue = case_in_new_area(rep, (6, 4), name="Overdue")
    add_action(overdue, -3, "Call the chair")
    for case, days_ago in ((fresh, 0), (stale, 40), (older, 10), (escalated, 1), (overdue, 0)):
        case.last_activity_at = now - timedelta(days=days_ago)
    db.session.commit()
    login_as(client, rep)
    html = client.get("/my-cases").get_data(as_text=True)
    names = [name.split(" ", 1)[1] for name in area_order(html)]
    assert names == ["Overdue", "Escalated", "Stale", "Older", "Fresh"]
    assert "Overdue: was due" in html
    assert "No activity for 4 weeks" in html


def test_new_cases_come_before_others_of_the_same_urgency(client, rep):
    now = clock.now()
    contacted = case_in_new_area(rep, (6, 4), name="Contacted")
    ops.change_status(contacted, "contacted", actor=rep, now=now)
    new = case_in_new_area(rep, (6, 4), name="Brand new")
    overdue = case_in_new_area(rep, (6, 4), name="Overdue")
    ops.change_status(overdue, "contacted", actor=rep, now=now)
    add_action(overdue, -2, "Late")
    contacted.last_activity_at = now - timedelta(days=20)  # untouched longer than the new one
    new.last_activity_at = now
    db.session.commit()
    login_as(client, rep)
    html = client.get("/my-cases").get_data(as_text=True)
    assert [name.split(" ", 1)[1] for name in area_order(html)] == [
        "Overdue",
        "Brand new",
        "Contacted",
    ]
    assert html.count("New: not yet contacted") == 1


def test_row_shows_flag_reasons_counts_and_next_due_action(client, rep):
    case = case_in_new_area(rep, (7, 3))
    add_action(case, 20, "Leaflet the estate")
    add_action(case, 5, "Invite two residents")
    ops.complete_action(case, add_action(case, 1, "Already done"), actor=rep, now=clock.now())
    db.session.commit()
    login_as(client, rep)
    html = client.get("/my-cases").get_data(as_text=True)
    assert "Under criteria" in html
    assert "Fewer than the required number of members" in html
    assert "residents are not more than half of the members" in html
    assert "7 / 3" in html
    assert "Needs 2 more members, both of them residents" in html
    assert "Invite two residents" in html
    assert "Leaflet the estate" not in html and "Already done" not in html
    due = london_date(clock.now()) + timedelta(days=5)
    assert f"Due {due.day} {due:%b %Y}" in html


def test_only_the_reps_own_open_cases_are_listed(client, rep):
    mine = case_in_new_area(rep, (6, 4), name="Mine")
    case_in_new_area(make_user("rep"), (6, 4), name="Theirs")
    case_in_new_area(rep, (6, 4), (10, 6), name="Resolved")
    db.session.commit()
    login_as(client, rep)
    html = client.get("/my-cases").get_data(as_text=True)
    assert [name.split(" ", 1)[1] for name in area_order(html)] == ["Mine"]
    assert f'href="/cases/{mine.id}"' in html


def test_programme_user_sees_the_cases_assigned_to_them(client):
    programme = make_user("programme")
    case_in_new_area(programme, (6, 4), name="Assigned to staff")
    case_in_new_area(make_user("rep"), (6, 4), name="A rep's")
    db.session.commit()
    login_as(client, programme)
    html = client.get("/my-cases").get_data(as_text=True)
    assert [name.split(" ", 1)[1] for name in area_order(html)] == ["Assigned to staff"]


def test_my_cases_runs_a_fixed_number_of_queries(client, rep):
    other = make_user("rep")
    for i in range(2):
        add_action(case_in_new_area(rep, (6, 4)), i - 1, f"small {i}")
    for i in range(20):
        add_action(case_in_new_area(other, (6, 4), (7, 5)), i - 3, f"big {i}")
    db.session.commit()
    counts = []
    for user, expected_rows in ((rep, 2), (other, 20)):
        login_as(client, user)
        client.get("/my-cases")  # warm up
        db.session.expire_all()
        with count_queries() as counter:
            html = client.get("/my-cases").get_data(as_text=True)
        assert len(area_order(html)) == expected_rows
        counts.append(counter.count)
    print("my cases queries:", counts)
    assert counts[0] == counts[1]
    assert counts[0] <= 20
