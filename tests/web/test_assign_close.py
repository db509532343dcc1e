"""Assigning and closing from the web: PRG with a flash, events and audit, stale versions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, CaseEvent
from tests.factories import add_snapshot, make_area, make_user
from tests.web.conftest import login_as, post_form


def sign_in(client, user):
    login_as(client, user)
    return client


def fresh_case(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def kinds(case_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    )


@pytest.fixture
def setup(app):
    boss = make_user("programme", name="Pat Programme")
    rep = make_user("rep", name="Rita Rep")
    area = make_area("BL001")
    add_snapshot(area, 6, 4, year=2021)
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    db.session.commit()
    return {"boss": boss, "rep": rep, "area": area, "case_id": case.id, "version": case.version}


def test_unassigned_queue_assigns_and_returns_to_the_queue(client, setup):
    sign_in(client, setup["boss"])
    queue = client.get("/cases/unassigned").get_data(as_text=True)
    assert f"Case #{setup['case_id']}" in queue and 'name="version"' in queue
    assert 'for="rep-' in queue  # each select has a label
    resp = post_form(
        client,
        f"/cases/{setup['case_id']}/assign",
        {"rep_id": setup["rep"].id, "version": setup["version"], "next": "/cases/unassigned"},
    )
    assert resp.status_code == 302 and resp.location.endswith("/cases/unassigned")
    case = fresh_case(setup["case_id"])
    assert case.rep_id == setup["rep"].id
    assert kinds(case.id)[-1] == "assigned"
    after = client.get("/cases/unassigned").get_data(as_text=True)
    assert "Rita Rep" in after  # the flash names the new rep
    assert f"Case #{setup['case_id']}</a>" not in after
    assert "Every open case has a rep" in after


def test_stale_version_is_refused_with_a_message(client, setup):
    sign_in(client, setup["boss"])
    url = f"/cases/{setup['case_id']}/assign"
    post_form(client, url, {"rep_id": setup["rep"].id, "version": setup["version"]})
    other = make_user("rep", name="Otto Other")
    db.session.commit()
    resp = post_form(
        client,
        url,
        {"rep_id": other.id, "version": setup["version"], "next": "/cases/unassigned"},
        follow_redirects=True,
    )
    assert "Someone else changed this case" in resp.get_data(as_text=True)
    assert fresh_case(setup["case_id"]).rep_id == setup["rep"].id


def test_open_redirects_are_ignored(client, setup):
    sign_in(client, setup["boss"])
    resp = post_form(
        client,
        f"/cases/{setup['case_id']}/assign",
        {"rep_id": setup["rep"].id, "version": setup["version"], "next": "//evil.example/x"},
    )
    assert "evil.example" not in resp.location


def test_unknown_rep_is_a_message_not_an_error(client, setup):
    sign_in(client, setup["boss"])
    resp = post_form(
        client,
        f"/cases/{setup['case_id']}/assign",
        {"rep_id": "99999", "version": setup["version"], "next": "/cases/unassigned"},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    assert "Choose a rep from the list" in resp.get_data(as_text=True)
    assert fresh_case(setup["case_id"]).rep_id is None


def test_close_asks_for_a_reason_then_closes(client, setup):
    sign_in(client, setup["boss"])
    url = f"/cases/{setup['case_id']}/close"
    page = client.get(url).get_data(as_text=True)
    assert '<label class="form-label" for="reason">' in page
    assert re.search(rf'<input name="version" type="hidden" value="{setup["version"]}">', page)

    missing = post_form(client, url, {"reason": " ", "version": setup["version"]})
    assert missing.status_code == 400
    html = missing.get_data(as_text=True)
    assert 'href="#reason"' in html and "Give a reason" in html
    assert fresh_case(setup["case_id"]).status == "new"

    done = post_form(
        client, url, {"reason": "Area left the programme", "version": setup["version"]}
    )
    assert done.status_code == 302
    case = fresh_case(setup["case_id"])
    assert case.status == "closed" and case.closed_reason == "Area left the programme"
    assert kinds(case.id)[-1] == "closed"
    follow = client.get("/cases?status=closed").get_data(as_text=True)
    assert "is closed" in follow and f"Case #{case.id}" in follow


def test_close_with_a_stale_version_saves_nothing(client, setup):
    sign_in(client, setup["boss"])
    post_form(
        client,
        f"/cases/{setup['case_id']}/assign",
        {"rep_id": setup["rep"].id, "version": setup["version"]},
    )
    resp = post_form(
        client,
        f"/cases/{setup['case_id']}/close",
        {"reason": "left", "version": setup["version"], "next": "/cases/unassigned"},
        follow_redirects=True,
    )
    assert "Someone else changed this case" in resp.get_data(as_text=True)
    assert fresh_case(setup["case_id"]).status == "new"


def test_closing_a_closed_case_redirects_with_a_message(client, setup):
    sign_in(client, setup["boss"])
    url = f"/cases/{setup['case_id']}/close"
    post_form(client, url, {"reason": "left", "version": setup["version"]})
    resp = client.get(url + "?next=/cases/unassigned", follow_redirects=True)
    assert "already closed" in resp.get_data(as_text=True)
    assert kinds(setup["case_id"]).count("closed") == 1


def test_area_rep_form_audits_and_moves_the_open_case(client, setup):
    sign_in(client, setup["boss"])
    resp = post_form(client, "/areas/BL001/rep", {"rep_id": setup["rep"].id, "also_open_case": "1"})
    assert resp.status_code == 302 and resp.location.endswith("/areas/BL001")
    db.session.expire_all()
    area = setup["area"]
    assert area.rep_id == setup["rep"].id
    assert fresh_case(setup["case_id"]).rep_id == setup["rep"].id
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "area_rep_changed"))
    assert audit.target_id == area.id and audit.actor_id == setup["boss"].id
    page = client.get("/areas/BL001").get_data(as_text=True)
    assert "Area BL001 assigned to Rita Rep" in page  # the flash


def test_area_rep_form_can_leave_the_case(client, setup):
    sign_in(client, setup["boss"])
    post_form(client, "/areas/BL001/rep", {"rep_id": setup["rep"].id})
    db.session.expire_all()
    assert setup["area"].rep_id == setup["rep"].id
    assert fresh_case(setup["case_id"]).rep_id is None


def test_inactive_user_cannot_be_given_an_area(client, setup):
    gone = make_user("rep", name="Gone Rep")
    gone.active = False
    db.session.commit()
    sign_in(client, setup["boss"])
    resp = post_form(client, "/areas/BL001/rep", {"rep_id": gone.id}, follow_redirects=True)
    assert "no longer active" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert setup["area"].rep_id is None
