"""The action plan and its actions through the web forms."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Action, ActionPlan, CaseEvent
from app.rules.calendar import london_date
from tests.factories import make_user
from tests.web.conftest import post_form
from tests.web.test_case_page import login_as, open_case


@pytest.fixture
def rep(app):
    user = make_user("rep")
    db.session.commit()
    return user


@pytest.fixture
def case(rep, client):
    case = open_case(rep)
    login_as(client, rep)
    return case


def in_days(days):
    return (london_date(clock.now()) + timedelta(days=days)).isoformat()


def plan_of(case):
    db.session.expire_all()
    return db.session.scalar(select(ActionPlan).where(ActionPlan.case_id == case.id))


def actions_of(case):
    db.session.expire_all()
    return db.session.scalars(
        select(Action).join(ActionPlan).where(ActionPlan.case_id == case.id).order_by(Action.id)
    ).all()


def test_plan_form_creates_the_plan(client, case):
    html = client.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    assert '<label class="form-check-label" for="barriers-0">Recruitment</label>' in html
    assert 'name="version" type="hidden" value="0"' in html
    response = post_form(
        client,
        f"/cases/{case.id}/plan",
        {
            "version": "0",
            "barriers": ["recruitment", "conflict"],
            "barriers_text": "",
            "target_members": "10",
            "target_on": "2027-03-31",
            "support": ["learning_events"],
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Plan saved." in html
    assert "Recruitment, Conflict" in html
    assert "10 members" in html and "by 31 Mar 2027" in html
    plan = plan_of(case)
    assert (plan.barriers, plan.target_members, plan.support) == (
        ["recruitment", "conflict"],
        10,
        ["learning_events"],
    )


def test_bad_plan_input_is_shown_with_links_to_fields_and_nothing_saved(client, case):
    response = post_form(
        client,
        f"/cases/{case.id}/plan",
        {"version": "0", "barriers": ["other"], "target_members": "lots", "target_on": "soon"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#target_members"' in html and 'href="#target_on"' in html
    assert 'aria-invalid="true"' in html
    assert plan_of(case) is None
    response = post_form(
        client,
        f"/cases/{case.id}/plan",
        {"version": "0", "barriers": ["other"], "target_members": "9"},
    )
    assert response.status_code == 422
    assert 'href="#barriers_text"' in response.get_data(as_text=True)
    assert plan_of(case) is None


def test_plan_saved_meanwhile_by_someone_else_is_not_overwritten(client, case):
    data = {"version": "0", "target_members": "9"}
    post_form(client, f"/cases/{case.id}/plan", data)
    response = post_form(
        client,
        f"/cases/{case.id}/plan",
        {**data, "target_members": "12", "barriers_text": "Chair stepping down in May"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "There is a problem" in html
    assert "Someone else changed this case while you were editing" in html
    # What was typed comes back, with the version of the plan as it is now.
    assert 'value="12"' in html and "Chair stepping down in May" in html
    assert f'name="version" type="hidden" value="{plan_of(case).version}"' in html
    assert plan_of(case).target_members == 9


def test_add_action_from_the_case_page(client, case):
    response = post_form(
        client,
        f"/cases/{case.id}/actions",
        {"description": "Hold an open meeting", "owner": "partnership", "due_on": in_days(14)},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Action added: Hold an open meeting" in html
    (action,) = actions_of(case)
    assert (action.owner, action.status, action.due_on.isoformat()) == (
        "partnership",
        "open",
        in_days(14),
    )


def test_bad_action_input_is_shown_and_nothing_added(client, case):
    response = post_form(
        client,
        f"/cases/{case.id}/actions",
        {"description": "", "owner": "partnership", "due_on": ""},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#description"' in html and 'href="#due_on"' in html
    response = post_form(
        client,
        f"/cases/{case.id}/actions",
        {"description": "Too late", "owner": "partnership", "due_on": in_days(-1)},
    )
    assert response.status_code == 422
    assert "The due date is in the past." in response.get_data(as_text=True)
    assert actions_of(case) == []


def _with_action(client, case, description="Recruit two residents"):
    post_form(
        client,
        f"/cases/{case.id}/actions",
        {"description": description, "owner": "rep", "due_on": in_days(10)},
    )
    db.session.refresh(case)
    return actions_of(case)[-1]


def test_edit_action(client, case):
    action = _with_action(client, case)
    url = f"/cases/{case.id}/actions/{action.id}/edit"
    assert "Recruit two residents" in client.get(url).get_data(as_text=True)
    response = post_form(
        client,
        url,
        {
            "description": "Recruit three residents",
            "owner": "partnership",
            "due_on": in_days(20),
            "version": case.version,
        },
        follow_redirects=True,
    )
    assert "Action updated." in response.get_data(as_text=True)
    (action,) = actions_of(case)
    assert (action.description, action.owner) == ("Recruit three residents", "partnership")


def test_edit_action_with_bad_input_changes_nothing(client, case):
    action = _with_action(client, case)
    url = f"/cases/{case.id}/actions/{action.id}/edit"
    response = post_form(
        client,
        url,
        {"description": "", "owner": "nobody", "due_on": in_days(20), "version": case.version},
    )
    assert response.status_code == 422
    assert 'href="#description"' in response.get_data(as_text=True)
    assert actions_of(case)[0].description == "Recruit two residents"


def test_complete_and_drop_actions(client, case):
    first = _with_action(client, case)
    second = _with_action(client, case, "Print leaflets")
    response = post_form(
        client,
        f"/cases/{case.id}/actions/{first.id}/complete",
        {"version": case.version},
        follow_redirects=True,
    )
    assert "Action done: Recruit two residents" in response.get_data(as_text=True)
    db.session.refresh(case)
    response = post_form(
        client,
        f"/cases/{case.id}/actions/{second.id}/drop",
        {"version": case.version},
        follow_redirects=True,
    )
    assert "Action dropped: Print leaflets" in response.get_data(as_text=True)
    assert [(a.status, a.completed_at is not None) for a in actions_of(case)] == [
        ("done", True),
        ("dropped", False),
    ]
    kinds = db.session.scalars(
        select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    assert kinds[-2:] == ["action_done", "action_dropped"]


def test_completing_with_an_old_page_is_refused(client, case):
    action = _with_action(client, case)
    shown = case.version
    post_form(client, f"/cases/{case.id}/status", {"target": "contacted", "version": shown})
    response = post_form(
        client,
        f"/cases/{case.id}/actions/{action.id}/complete",
        {"version": shown},
        follow_redirects=True,
    )
    assert "Someone else changed this case" in response.get_data(as_text=True)
    assert actions_of(case)[0].status == "open"
    assert (
        db.session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.kind == "action_done"))
        == 0
    )
