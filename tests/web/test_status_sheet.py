"""'Print for the partnership': a one-page status sheet with nothing staff-only on it."""

from datetime import timedelta

import pytest

from app import clock
from app.extensions import db
from app.operations import case_actions as ops
from app.rules.calendar import london_date
from tests.factories import make_user
from tests.querycount import count_queries
from tests.web.test_case_page import login_as
from tests.web.test_my_cases import add_action, case_in_new_area


@pytest.fixture
def rep(app):
    user = make_user("rep", name="Rhiannon Rep")
    db.session.commit()
    return user


def test_sheet_shows_standing_distance_plan_and_open_actions_only(client, rep):
    case = case_in_new_area(rep, (7, 3), name="Sheetfield")
    now = clock.now()
    ops.save_plan(
        case,
        barriers=["recruitment"],
        barriers_text="",
        target_members=9,
        target_on=london_date(now) + timedelta(days=60),
        support=["learning_events"],
        actor=rep,
        now=now,
    )
    add_action(case, 5, "Invite two residents")
    done = add_action(case, 3, "Finished already")
    ops.complete_action(case, done, actor=rep, now=now)
    ops.add_note(case, "Chair is difficult, staff only", rep, now)
    db.session.commit()

    login_as(client, rep)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="/cases/{case.id}/sheet"' in page and "Print for the partnership" in page
    html = client.get(f"/cases/{case.id}/sheet").get_data(as_text=True)
    assert "Sheetfield" in html
    assert "7 members, 3 of them residents" in html
    assert "Needs 2 more members, both of them residents" in html
    assert "Recruitment" in html and "9 members by" in html and "Learning events" in html
    assert "Invite two residents" in html
    assert "Finished already" not in html
    assert "Chair is difficult" not in html  # no staff notes
    assert "<form" not in html and 'aria-label="Main"' not in html  # no forms, no navigation
    assert "Rhiannon Rep" in html


def test_sheet_of_a_case_at_eight_says_one_leaving_puts_it_under(client, rep):
    case = case_in_new_area(rep, (6, 4), (8, 5))
    db.session.commit()
    login_as(client, rep)
    html = client.get(f"/cases/{case.id}/sheet").get_data(as_text=True)
    assert "One member leaving would put it under criteria" in html
    assert "No plan has been agreed yet." in html and "No open actions." in html


def test_another_reps_case_sheet_is_not_found(client, rep):
    theirs = case_in_new_area(make_user("rep"), (6, 4))
    db.session.commit()
    login_as(client, rep)
    assert client.get(f"/cases/{theirs.id}/sheet").status_code == 404


def test_sheet_query_count_does_not_grow_with_actions(client, rep):
    case = case_in_new_area(rep, (6, 4))
    add_action(case, 2, "One")
    db.session.commit()
    login_as(client, rep)

    def queries():
        client.get(f"/cases/{case.id}/sheet")  # warm up
        db.session.expire_all()
        with count_queries() as counter:
            client.get(f"/cases/{case.id}/sheet")
        return counter.count

    few = queries()
    for i in range(20):
        add_action(case, i, f"Action {i}")
    db.session.commit()
    assert queries() == few
