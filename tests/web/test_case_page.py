"""The case page: what a rep sees, who may see it, status changes, notes, the timeline."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Action, ActionPlan, Case, CaseEvent
from app.operations import case_actions as ops
from app.rules.calendar import london_date
from tests.factories import NOW, add_snapshot, make_area, make_user
from tests.querycount import count_queries
from tests.web.conftest import (
    post_form,
    session_id_for,  # noqa: E402
    token_in,
)


def login_as(client, user) -> None:
    """Sign `user` in without the form. (conftest's login_as hashes another User-Agent than the
    test client sends, so strong session protection drops that session. And the tests' app
    context outlives requests, so Flask-Login's cached user in `g` must be dropped.)"""
    from flask import g
    from flask_login.utils import _create_identifier

    g.pop("_login_user", None)
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess.update({"_user_id": session_id_for(user), "_fresh": True, "_id": identifier})


def open_case(rep, members=6, residents=4, years=(2026,)):
    area = make_area(rep=rep)
    for year in years:
        add_snapshot(area, members, residents, year=year)
    db.session.commit()
    return db.session.scalar(select(Case).where(Case.area_id == area.id))


def count_events(case, kind):
    return db.session.scalar(
        select(func.count()).where(CaseEvent.case_id == case.id, CaseEvent.kind == kind)
    )


@pytest.fixture
def rep(app):
    user = make_user("rep", name="Asha Rep")
    db.session.commit()
    return user


def test_rep_sees_summary_with_reasons_trend_and_timeline(client, rep):
    area = make_area(rep=rep)
    add_snapshot(area, 10, 7, year=2024)
    add_snapshot(area, 7, 3, year=2025)
    db.session.commit()
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    login_as(client, rep)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert area.name in html
    assert "Fewer than the required number of members" in html
    assert "Residents are not more than half of the members" in html
    assert "7 members, 3 residents" in html
    assert "<caption>Members at each annual review</caption>" in html
    assert '<th scope="row">2024</th><td>10</td><td>7</td><td>Within criteria</td>' in html
    assert '<th scope="row">2025</th><td>7</td><td>3</td><td>Under criteria</td>' in html
    assert "Case opened after the 2025 annual review" in html
    assert "30 Sep 2025" in html  # opened on, shown in London words


def test_rep_is_offered_only_the_next_status_and_never_close(client, rep):
    case = open_case(rep)
    login_as(client, rep)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    # A new case becomes contacted by recording a contact, not by a bare status button.
    assert 'name="target" value="contacted"' not in html
    assert f'action="/cases/{case.id}/contacts"' in html
    assert 'value="plan_agreed"' not in html
    assert 'value="closed"' not in html
    assert "Close this case" not in html


def test_rep_changes_status_and_sees_what_happened(client, rep):
    case = open_case(rep)
    login_as(client, rep)
    response = post_form(
        client,
        f"/cases/{case.id}/status",
        {"target": "contacted", "version": case.version},
        follow_redirects=True,
    )
    assert "Status changed to Contacted." in response.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "contacted" and case.contacted_at is not None
    assert count_events(case, "status_changed") == 1


def test_refused_transition_is_shown_as_a_form_error_and_changes_nothing(client, rep):
    case = open_case(rep)
    login_as(client, rep)
    response = post_form(
        client, f"/cases/{case.id}/status", {"target": "closed", "version": case.version}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in html
    assert "Only the programme team can close a case." in html
    assert 'href="#target"' in html
    db.session.refresh(case)
    assert case.status == "new"


def test_stale_status_form_is_refused_with_the_conflict_message(client, rep):
    case = open_case(rep)
    shown = case.version
    ops.change_status(case, "contacted", make_user("programme"), NOW + timedelta(hours=1))
    db.session.commit()
    login_as(client, rep)
    response = post_form(
        client,
        f"/cases/{case.id}/status",
        {"target": "plan_agreed", "version": shown},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "There is a problem" in html
    assert "Someone else changed this case while you were editing" in html
    # The form now carries the version the page shows: sending it again is a choice.
    assert f'name="version" value="{db.session.get(Case, case.id).version}"' in html
    assert count_events(case, "status_changed") == 1


def test_concurrent_write_between_read_and_commit_is_refused(client, rep, monkeypatch):
    """Two requests read version 1; the other one commits first: ours must not overwrite."""
    from sqlalchemy import update

    from app.web.cases import views

    case = open_case(rep)
    real_change_status = views.ops.change_status

    def change_after_someone_else(case, *args, **kwargs):
        db.session.execute(
            update(Case.__table__)
            .where(Case.__table__.c.id == case.id)
            .values(version=Case.__table__.c.version + 1, status="contacted")
        )
        return real_change_status(case, *args, **kwargs)

    monkeypatch.setattr(views.ops, "change_status", change_after_someone_else)
    login_as(client, rep)
    response = post_form(
        client,
        f"/cases/{case.id}/status",
        {"target": "contacted", "version": case.version},
        follow_redirects=True,
    )
    assert "Someone else changed this case while you were editing" in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert count_events(case, "status_changed") == 0
    assert db.session.get(Case, case.id).status == "new"  # the simulated write rolled back too


def test_note_is_added_and_empty_note_refused(client, rep):
    case = open_case(rep)
    login_as(client, rep)
    response = post_form(
        client, f"/cases/{case.id}/notes", {"note": "Called the chair."}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "Note added." in html and "Called the chair." in html
    response = post_form(client, f"/cases/{case.id}/notes", {"note": "  "})
    assert response.status_code == 422
    assert 'href="#note"' in response.get_data(as_text=True)
    assert count_events(case, "note") == 1


def test_post_without_csrf_token_is_refused(client, rep):
    case = open_case(rep)
    login_as(client, rep)
    response = client.post(
        f"/cases/{case.id}/status", data={"target": "contacted", "version": case.version}
    )
    assert response.status_code == 400
    db.session.refresh(case)
    assert case.status == "new"


def test_timeline_filter_shows_only_the_chosen_kind(client, rep):
    case = open_case(rep)
    ops.add_note(case, "A note about the chair", rep, NOW)
    ops.change_status(case, "contacted", rep, NOW)
    db.session.commit()
    login_as(client, rep)

    def timeline(group):
        html = client.get(f"/cases/{case.id}?events={group}").get_data(as_text=True)
        return html.split('id="timeline"', 1)[1]

    notes = timeline("notes")
    assert "A note about the chair" in notes and "Status changed to Contacted" not in notes
    status = timeline("status")
    assert "Status changed to Contacted" in status and "A note about the chair" not in status
    assert "Case opened after" in status
    everything = timeline("all")
    assert "A note about the chair" in everything and "Status changed to Contacted" in everything
    assert everything.index("Status changed") < everything.index("Case opened")  # newest first


def test_previous_case_is_linked(client, rep):
    area = make_area(rep=rep)
    add_snapshot(area, 6, 4, year=2024)
    add_snapshot(area, 10, 6, year=2025)
    add_snapshot(area, 6, 4, year=2026)
    db.session.commit()
    first, second = db.session.scalars(
        select(Case).where(Case.area_id == area.id).order_by(Case.id)
    ).all()
    login_as(client, rep)
    html = client.get(f"/cases/{second.id}").get_data(as_text=True)
    assert f'href="/cases/{first.id}"' in html
    html = client.get(f"/cases/{first.id}").get_data(as_text=True)
    assert f'href="/cases/{second.id}"' in html
    assert "Update membership" not in html  # a resolved case takes no membership update


def test_programme_user_sees_any_case_but_no_close_button_here(client, rep):
    case = open_case(rep)
    programme = make_user("programme")
    db.session.commit()
    login_as(client, programme)
    response = client.get(f"/cases/{case.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="closed"' not in html
    assert "Close this case" in html  # a link to the programme team's close page


def _rep_a_case_with_action(rep):
    case = open_case(rep)
    action = ops.add_action(
        case,
        description="Recruit",
        owner="rep",
        due_on=date(2026, 12, 1),
        actor=rep,
        now=NOW,
    )
    db.session.commit()
    return case, action


def test_another_rep_gets_404_for_every_page_and_form_of_the_case(client, rep):
    case, action = _rep_a_case_with_action(rep)
    other = make_user("rep")
    db.session.commit()
    base = f"/cases/{case.id}"
    pages = (base, f"{base}/plan", f"{base}/membership", f"{base}/actions/{action.id}/edit")
    login_as(client, rep)
    for url in pages:
        assert client.get(url).status_code == 200, url
    login_as(client, other)
    for url in pages:
        assert client.get(url).status_code == 404, url
    version = case.version
    posts = {
        f"{base}/status": {"target": "contacted", "version": version},
        f"{base}/notes": {"note": "sneaky"},
        f"{base}/plan": {"version": 0, "target_members": 9},
        f"{base}/actions": {"description": "x", "owner": "rep", "due_on": "2026-12-20"},
        f"{base}/actions/{action.id}/edit": {
            "description": "x",
            "owner": "rep",
            "due_on": "2026-12-20",
            "version": version,
        },
        f"{base}/actions/{action.id}/complete": {"version": version},
        f"{base}/actions/{action.id}/drop": {"version": version},
        f"{base}/membership": {
            "version": version,
            "rows-0-name": "Someone",
            "rows-0-role": "member",
        },
    }
    events_before = db.session.scalar(select(func.count(CaseEvent.id)))
    for url, data in posts.items():
        assert post_form(client, url, data).status_code == 404, url
    db.session.expire_all()
    assert db.session.scalar(select(func.count(CaseEvent.id))) == events_before
    assert db.session.get(Case, case.id).status == "new"
    assert db.session.get(Action, action.id).status == "open"


def test_action_of_another_case_is_404_even_for_its_own_rep(client, rep):
    case, _ = _rep_a_case_with_action(rep)
    other_case, other_action = _rep_a_case_with_action(rep)
    login_as(client, rep)
    url = f"/cases/{case.id}/actions/{other_action.id}/complete"
    assert post_form(client, url, {"version": case.version}).status_code == 404
    assert db.session.get(Action, other_action.id).status == "open"


def _busy_case(rep, n):
    """A case with n notes, n actions and n annual reviews before it."""
    case = open_case(rep, years=range(2026 - n, 2027))
    for i in range(n):
        ops.add_note(case, f"note {i}", rep, NOW)
        ops.add_action(
            case,
            description=f"action {i}",
            owner="rep",
            due_on=date(2026, 12, 1),
            actor=rep,
            now=NOW,
        )
    db.session.commit()
    return case


def test_case_page_runs_a_fixed_number_of_queries(client, rep):
    small, big = _busy_case(rep, 2), _busy_case(rep, 20)
    assert db.session.scalar(select(func.count(Action.id)).join(ActionPlan)) == 22
    login_as(client, rep)
    client.get(f"/cases/{small.id}")  # warm up: first request loads templates etc.
    counts = []
    for url in (f"/cases/{small.id}", f"/cases/{big.id}"):
        db.session.expire_all()
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(counter.count)
    print("case page queries:", counts)
    assert counts[0] == counts[1]
    assert counts[0] <= 20
    assert "note 19" in response.get_data(as_text=True)


def test_token_helper_is_what_the_page_carries(client, rep):
    """The page's forms carry a CSRF token that the server accepts (no test-only shortcut)."""
    case = open_case(rep)
    login_as(client, rep)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    token = token_in(html)
    assert token
    response = client.post(f"/cases/{case.id}/notes", data={"note": "hi", "csrf_token": token})
    assert response.status_code == 302


def test_rep_records_contact_and_the_summary_shows_the_last_one(client, rep):
    case = open_case(rep)
    login_as(client, rep)
    today = london_date(clock.now())
    response = post_form(
        client,
        f"/cases/{case.id}/contacts",
        {
            "on": today.isoformat(),
            "method": "meeting",
            "with_whom": "Jo Chair",
            "outcome": "Agreed to invite two residents.",
        },
    )
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.status == "contacted"
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Contact recorded. The case is now contacted." in html
    assert f"{today.day} {today:%b %Y}, meeting with Jo Chair" in html
    assert "Contact (meeting) with Jo Chair" in html  # on the timeline


def test_a_contact_in_the_future_is_refused_with_the_error_summary_and_typing_kept(client, rep):
    case = open_case(rep)
    login_as(client, rep)
    tomorrow = london_date(clock.now()) + timedelta(days=1)
    response = post_form(
        client,
        f"/cases/{case.id}/contacts",
        {
            "on": tomorrow.isoformat(),
            "method": "phone",
            "with_whom": "Jo Chair",
            "outcome": "Typed with care.",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in html and "can&#39;t be in the future" in html
    assert "Typed with care." in html
    db.session.refresh(case)
    assert case.status == "new"


def test_plan_agreed_with_an_empty_plan_says_what_is_missing(client, rep):
    case = open_case(rep)
    ops.change_status(case, "contacted", rep, clock.now())
    db.session.commit()
    login_as(client, rep)
    response = post_form(
        client,
        f"/cases/{case.id}/status",
        {
            "target": "plan_agreed",
            "version": case.version,
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The plan can&#39;t be agreed yet: it needs at least one barrier" in html
    db.session.refresh(case)
    assert case.status == "contacted"


def test_case_page_links_the_area_and_lists_contacts_with_opt_out(client, rep):
    from datetime import UTC, datetime

    from app.models import Contact

    case = open_case(rep)
    area = case.area
    db.session.add(
        Contact(
            area_id=area.id,
            name="Olive Optout",
            email="olive@example.org",
            opted_out=True,
            opted_out_at=datetime(2026, 6, 1, 12, tzinfo=UTC),
        )
    )
    db.session.commit()
    login_as(client, rep)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="/areas/{area.code}"' in html
    assert "Olive Optout" in html and "mailto:olive@example.org" in html
    assert "opted out of reminder emails on 1 Jun 2026" in html
    assert area.contacts[0].email in html and "receives reminders" in html
    assert 'id="reassign"' not in html  # reps do not reassign


def test_programme_reassigns_from_the_case_page_to_active_reps_only(client, rep):
    case = open_case(rep)
    other = make_user("rep", name="Bea Other")
    gone = make_user("rep", name="Gus Gone")
    gone.active = False
    programme = make_user("programme", name="Pat Programme")
    db.session.commit()
    login_as(client, programme)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    picker = html.split('id="case-rep"', 1)[1].split("</select>", 1)[0]
    assert "Bea Other" in picker and "Asha Rep" in picker
    assert "Gus Gone" not in picker and "Pat Programme" not in picker
    assert picker.index("Asha Rep") < picker.index("Bea Other")  # by name
    response = post_form(
        client,
        f"/cases/{case.id}/assign",
        {"rep_id": str(other.id), "version": str(case.version), "next": f"/cases/{case.id}"},
    )
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    db.session.rollback()
    assert db.session.get(Case, case.id).rep_id == other.id


def test_case_and_area_pages_say_what_would_bring_the_area_back(client, rep):
    case = open_case(rep, members=7, residents=3)
    login_as(client, rep)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "What would bring it back" in html
    assert "Needs 2 more members, both of them residents" in html
    area_html = client.get(f"/areas/{case.area.code}").get_data(as_text=True)
    assert "Needs 2 more members, both of them residents" in area_html


def test_an_area_at_eight_is_one_departure_from_under_criteria(client, rep):
    case = open_case(rep, members=8, residents=5)
    login_as(client, rep)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "One member leaving would put it under criteria" in html
