"""The membership update form: the current roster, edited without JavaScript."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, Person, RosterEntry, Snapshot
from app.operations import case_actions as ops
from tests.factories import NOW, add_snapshot, make_area, make_user
from tests.web.conftest import post_form
from tests.web.test_case_page import login_as, open_case


@pytest.fixture
def rep(app):
    user = make_user("rep")
    db.session.commit()
    return user


@pytest.fixture
def case(rep, client):
    """A case whose area has 6 counted members, the first 4 of them residents."""
    case = open_case(rep, 6, 4)
    login_as(client, rep)
    return case


def current_rows(case):
    """Form data for the roster as stored (annual review 2026), nothing changed."""
    code = case.area.code
    data = {"version": str(case.version)}
    for i in range(6):
        data[f"rows-{i}-person_id"] = f"{code}-annual-2026-09-30-{i}"
        data[f"rows-{i}-name"] = f"Person {i}"
        data[f"rows-{i}-role"] = "chair" if i == 0 else "member"
        if i < 4:
            data[f"rows-{i}-resident"] = "y"
    return data


def new_person(data, index, name, resident=True, role="member"):
    data[f"rows-{index}-person_id"] = ""
    data[f"rows-{index}-name"] = name
    data[f"rows-{index}-role"] = role
    if resident:
        data[f"rows-{index}-resident"] = "y"


def update_snapshot(case):
    db.session.expire_all()
    return db.session.scalar(
        select(Snapshot).where(Snapshot.area_id == case.area_id, Snapshot.kind == "update")
    )


def test_form_shows_the_current_roster_and_blank_rows(client, case):
    html = client.get(f"/cases/{case.id}/membership").get_data(as_text=True)
    assert 'name="rows-0-name" type="text" value="Person 0"' in html
    assert 'name="rows-5-name" type="text" value="Person 5"' in html
    assert 'name="rows-8-name" type="text" value=""' in html
    assert 'id="rows-9-name"' not in html
    assert 'checked class="form-check-input" id="rows-3-resident"' in html
    assert 'class="form-check-input" id="rows-4-resident"' in html  # not a resident
    assert '<option selected value="chair">Chair</option>' in html
    assert '<label class="visually-hidden" for="rows-0-role">Role of Person 0</label>' in html
    assert "30 Sep 2026" in html


def test_adding_residents_brings_the_area_within_criteria_and_resolves_the_case(client, case):
    data = current_rows(case)
    new_person(data, 6, "Ada New")
    new_person(data, 7, "Ben New")
    new_person(data, 8, "Cy New", resident=False)
    response = post_form(client, f"/cases/{case.id}/membership", data, follow_redirects=True)
    assert (
        "Membership updated: the area is now within criteria (9 members, 6 residents);"
        " the case is resolved." in response.get_data(as_text=True)
    )
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status == "resolved"
    snapshot = update_snapshot(case)
    assert (snapshot.members, snapshot.residents, snapshot.source) == (9, 6, "web")
    new_ids = db.session.scalars(
        select(RosterEntry.person_ref).where(RosterEntry.name.like("% New"))
    ).all()
    assert len(new_ids) == 3
    from app.models import Person

    person_ids = db.session.scalars(select(Person.person_id).where(Person.id.in_(new_ids))).all()
    assert all(p.startswith(f"web-{case.area.code}-") for p in person_ids)
    assert len(set(person_ids)) == 3


def test_removing_people_and_changing_roles(client, case):
    data = current_rows(case)
    data["rows-5-remove"] = "y"
    data["rows-4-role"] = "worker"
    response = post_form(client, f"/cases/{case.id}/membership", data, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "(4 members, 4 residents); the case stays open." in html
    snapshot = update_snapshot(case)
    names = [(e.name, e.role) for e in snapshot.entries]
    assert ("Person 5", "member") not in names and ("Person 4", "worker") in names
    assert len(names) == 5


def test_roster_without_counted_members_is_refused(client, case):
    data = {"version": str(case.version)}
    for i in range(6):
        data.update({k: v for k, v in current_rows(case).items() if k.startswith(f"rows-{i}-")})
        data[f"rows-{i}-remove"] = "y"
    new_person(data, 6, "Wendy Worker", resident=False, role="worker")
    response = post_form(client, f"/cases/{case.id}/membership", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Add at least one counted member" in html
    assert 'href="#roster"' in html
    assert 'value="Wendy Worker"' in html  # what was typed is kept
    assert update_snapshot(case) is None


def test_existing_person_with_blank_name_is_an_error_on_that_field(client, case):
    data = current_rows(case)
    data["rows-1-name"] = "  "
    response = post_form(client, f"/cases/{case.id}/membership", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#rows-1-name"' in html
    assert 'id="rows-1-name-error"' in html
    assert update_snapshot(case) is None


def test_update_on_a_changed_case_is_refused(client, case, rep):
    data = current_rows(case)
    ops.change_status(case, "contacted", rep, NOW + timedelta(hours=1))
    db.session.commit()
    new_person(data, 6, "Ada New")
    response = post_form(client, f"/cases/{case.id}/membership", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this case" in html
    assert 'value="Ada New"' in html  # the roster as typed, not an empty form
    assert update_snapshot(case) is None


def test_update_after_a_note_meanwhile_is_kept(client, case, rep):
    data = current_rows(case)
    ops.add_note(case, "meanwhile", rep, NOW + timedelta(hours=1))
    db.session.commit()
    new_person(data, 6, "Ada New")
    response = post_form(client, f"/cases/{case.id}/membership", data)
    assert response.status_code == 302
    assert update_snapshot(case) is not None


def test_membership_update_is_on_the_timeline(client, case):
    data = current_rows(case)
    new_person(data, 6, "Ada New")
    post_form(client, f"/cases/{case.id}/membership", data)
    html = client.get(f"/cases/{case.id}?events=membership").get_data(as_text=True)
    timeline = html.split('id="timeline"', 1)[1]
    assert "Membership updated: the area is now under criteria" in timeline
    assert "(7 members, 5 residents)" in timeline


def test_saving_the_unchanged_roster_stores_nothing(client, case):
    response = post_form(client, f"/cases/{case.id}/membership", current_rows(case))
    assert response.status_code == 302
    assert update_snapshot(case) is None
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Nothing changed: the roster is the one already recorded" in html
    assert "Membership updated" not in html


def test_an_update_that_resolves_the_case_is_one_timeline_entry(client, case):
    data = current_rows(case)
    for i, name in enumerate(("Ann", "Bea", "Cal"), start=6):
        new_person(data, i, name)
    response = post_form(client, f"/cases/{case.id}/membership", data)
    assert response.status_code == 302
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    timeline = html[html.index('id="timeline"') :]
    entries = timeline.split('<li class="event-')[1:]
    updates = [e for e in entries if "9 members, 7 residents" in e]
    assert len(updates) == 1, updates
    assert updates[0].startswith("membership_updated")
    assert "the case is resolved" in updates[0]


def test_check_shows_the_evaluation_and_stores_nothing(client, case):
    data = current_rows(case)
    new_person(data, 6, "Ann")
    new_person(data, 7, "Bea", resident=False)
    response = post_form(client, f"/cases/{case.id}/membership", {**data, "step": "check"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This roster gives <strong>8 members, 5 of them residents</strong>" in html
    assert "The area would have returned within criteria" in html
    assert 'value="Ann"' in html and 'name="step" value="save"' in html
    assert update_snapshot(case) is None  # nothing stored by the check


def test_check_of_the_unchanged_roster_says_so(client, case):
    response = post_form(
        client, f"/cases/{case.id}/membership", {**current_rows(case), "step": "check"}
    )
    html = response.get_data(as_text=True)
    assert "saving it would change nothing" in html
    assert 'name="step" value="save"' not in html


def test_another_areas_person_id_posted_changes_nothing_of_that_person(client, case):
    """The hidden person_id is the client's: a row naming someone of another area is stored as a
    new person of this area, and the other area's person keeps their name and roster."""
    other_area = make_area("BLZ99")
    add_snapshot(other_area, 9, 6, year=2026)
    db.session.commit()
    victim_id = f"{other_area.code}-annual-2026-09-30-0"
    data = current_rows(case)
    data["rows-6-person_id"] = victim_id
    data["rows-6-name"] = "Renamed By Another Rep"
    data["rows-6-role"] = "member"
    response = post_form(client, f"/cases/{case.id}/membership", data)
    assert response.status_code == 302
    db.session.expire_all()
    victim = db.session.scalar(select(Person).where(Person.person_id == victim_id))
    assert victim.name == "Person 0"
    stored = update_snapshot(case)
    added = [e for e in stored.entries if e.name == "Renamed By Another Rep"]
    assert len(added) == 1 and added[0].person.person_id != victim_id
    assert added[0].person.person_id.startswith(f"web-{case.area.code}-")
    assert victim_id not in {e.person.person_id for e in stored.entries}


def test_a_person_of_this_areas_roster_keeps_their_id(client, case):
    data = current_rows(case)
    data["rows-2-name"] = "Person Two Renamed"
    assert post_form(client, f"/cases/{case.id}/membership", data).status_code == 302
    stored = update_snapshot(case)
    renamed = next(e for e in stored.entries if e.name == "Person Two Renamed")
    assert renamed.person.person_id == f"{case.area.code}-annual-2026-09-30-2"
