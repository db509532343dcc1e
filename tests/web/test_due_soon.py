"""'Due soon': open actions due in the next 14 days and every overdue one, overdue first."""

import html as html_lib
import re

import pytest

from app import clock
from app.extensions import db
from app.operations import case_actions as ops
from tests.factories import make_user
from tests.querycount import count_queries
from tests.web.test_case_page import login_as
from tests.web.test_my_cases import add_action, case_in_new_area


@pytest.fixture
def rep(app):
    user = make_user("rep")
    db.session.commit()
    return user


def listed(html):
    """The action descriptions in the order the page lists them."""
    found = re.findall(r'<td data-label="Action" class="text-break">([^<]+)</td>', html)
    return [html_lib.unescape(text) for text in found]


def test_rep_sees_own_actions_due_within_two_weeks_overdue_first(client, rep):
    case = case_in_new_area(rep, (6, 4))
    add_action(case, 10, "Hold the open day")
    add_action(case, -3, "Send the minutes")
    add_action(case, 0, "Book the hall")
    add_action(case, 15, "Too far ahead")
    done = add_action(case, 2, "Already done")
    ops.complete_action(case, done, actor=rep, now=clock.now())
    other = case_in_new_area(make_user("rep"), (6, 4))
    add_action(other, 1, "Another rep's action")
    db.session.commit()

    login_as(client, rep)
    html = client.get("/due-soon").get_data(as_text=True)
    assert listed(html) == ["Send the minutes", "Book the hall", "Hold the open day"]
    assert "of which <strong" in html and "1 overdue" in html
    assert "<title>Due soon (3)" in html


def test_programme_team_sees_every_case_with_its_rep(client, rep):
    add_action(case_in_new_area(rep, (6, 4)), 4, "Rep one's action")
    other_rep = make_user("rep", name="Rita Other")
    add_action(case_in_new_area(other_rep, (6, 4)), 2, "Rep two's action")
    programme = make_user("programme")
    db.session.commit()

    login_as(client, programme)
    html = client.get("/due-soon").get_data(as_text=True)
    assert listed(html) == ["Rep two's action", "Rep one's action"]
    assert "Rita Other" in html


def test_nothing_due_shows_the_empty_state(client, rep):
    add_action(case_in_new_area(rep, (6, 4)), 20, "Next month")
    db.session.commit()
    login_as(client, rep)
    html = client.get("/due-soon").get_data(as_text=True)
    assert "Nothing is due in the next 14 days on your cases" in html
    assert "<table" not in html


def test_actions_of_resolved_cases_are_not_listed(client, rep):
    from tests.factories import add_snapshot

    case = case_in_new_area(rep, (6, 4))
    add_action(case, 3, "Was needed")
    add_snapshot(case.area, 10, 7, year=2026)
    db.session.commit()
    login_as(client, rep)
    assert listed(client.get("/due-soon").get_data(as_text=True)) == []


def test_pages_of_fifty_with_a_hostile_page_number(client, rep):
    case = case_in_new_area(rep, (6, 4))
    for i in range(53):
        add_action(case, i % 14, f"Action {i:02d}")
    db.session.commit()
    login_as(client, rep)
    first = client.get("/due-soon").get_data(as_text=True)
    second = client.get("/due-soon?page=2").get_data(as_text=True)
    assert len(listed(first)) == 50 and len(listed(second)) == 3
    assert client.get("/due-soon?page=%C2%B2").status_code == 200  # '²' is not a page number
    assert listed(client.get("/due-soon?page=99").get_data(as_text=True)) == listed(second)


def test_query_count_does_not_grow_with_the_actions(client, rep):
    login_as(client, rep)

    def queries():
        with count_queries() as counter:
            assert client.get("/due-soon").status_code == 200
        return counter.count

    case = case_in_new_area(rep, (6, 4))
    add_action(case, 1, "One")
    db.session.commit()
    few = queries()
    for i in range(30):
        add_action(case_in_new_area(rep, (6, 4)), i % 10, f"More {i}")
    db.session.commit()
    assert queries() == few
