"""Nothing typed is lost: a note, an action or a contact never conflicts with another user's
change of the same case, whichever commits first; real conflicts come back with what was typed.
Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from flask import g
from flask_login.utils import _create_identifier
from sqlalchemy import func, select

from app.extensions import db
from app.models import Action, Case, CaseEvent, User
from app.operations import case_actions as ops
from tests.factories import NOW, add_snapshot, make_area, make_user
from tests.web.conftest import csrf_token, session_id_for

LATER = NOW + timedelta(hours=1)  # after the case's opening: every change moves its activity


def login_as(client, user) -> None:
    g.pop("_login_user", None)
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess.update({"_user_id": session_id_for(user), "_fresh": True, "_id": identifier})


def post(client, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": csrf_token(client)})


def version_in(html: str) -> int:
    """The version a form on the page carries (its hidden field, whatever the attribute order)."""
    (tag,) = re.findall(r'<input[^>]*name="version"[^>]*>', html)
    return int(re.search(r'value="(\d+)"', tag).group(1))


def events(case_id: int, kind: str) -> list[str]:
    return list(
        db.session.scalars(
            select(CaseEvent.message)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
            .order_by(CaseEvent.id)
        )
    )


@pytest.fixture
def people(app):
    rep = make_user("rep", name="Asha Rep")
    boss = make_user("programme", name="Pat Programme")
    db.session.commit()
    return rep, boss


def new_case(rep) -> int:
    area = make_area(rep=rep)
    add_snapshot(area, 6, 4, year=2026)
    db.session.commit()
    return db.session.scalar(select(Case.id).where(Case.area_id == area.id))


def fresh_status(case_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Case, case_id).status


# --- one request reads the case, the other commits before it writes --------------------------


def _interleaved(app, case_id: int, rep_id: int, boss_id: int, addition) -> None:
    """The rep's request loads the case; meanwhile the programme team moves it to contacted
    and commits; then the rep's addition is written on the case it loaded."""
    with app.app_context():
        case = db.session.get(Case, case_id)
        rep = db.session.get(User, rep_id)
        assert case.version is not None and case.status == "new"
        with app.app_context():  # another request, its own session
            other = db.session.get(Case, case_id)
            ops.change_status(other, "contacted", db.session.get(User, boss_id), LATER)
            db.session.commit()
        addition(case, rep)
        db.session.commit()


def test_note_written_after_a_simultaneous_status_change_keeps_both(app, people):
    rep, boss = people
    case_id = new_case(rep)
    _interleaved(
        app,
        case_id,
        rep.id,
        boss.id,
        lambda case, actor: ops.add_note(case, "Chair on holiday until May", actor, LATER),
    )
    assert events(case_id, "note") == ["Chair on holiday until May"]
    assert fresh_status(case_id) == "contacted"


def test_action_and_contact_after_a_simultaneous_status_change_keep_both(app, people):
    rep, boss = people
    case_id = new_case(rep)

    def both(case, actor):
        ops.add_action(
            case,
            description="Book the hall",
            owner="rep",
            due_on=date(2027, 1, 8),
            actor=actor,
            now=LATER,
        )
        ops.record_contact(
            case,
            on=NOW.date(),
            method="phone",
            with_whom="the chair",
            outcome="Agreed to meet",
            actor=actor,
            now=LATER,
        )

    _interleaved(app, case_id, rep.id, boss.id, both)
    assert len(events(case_id, "action_added")) == 1
    assert len(events(case_id, "contact")) == 1
    # The contact found the case already contacted: one status change, the other user's.
    assert events(case_id, "status_changed") == ["Status changed to Contacted."]
    assert fresh_status(case_id) == "contacted"
    assert db.session.scalar(select(func.count(Action.id))) == 1


def test_status_form_shown_before_a_note_is_still_accepted(client, people):
    """The programme team opens the case; the rep adds a note; the status change is kept."""
    rep, boss = people
    case_id = new_case(rep)
    shown = db.session.get(Case, case_id).version
    login_as(client, rep)
    assert post(client, f"/cases/{case_id}/notes", {"note": "Called the chair"}).status_code == 302
    login_as(client, boss)
    response = post(client, f"/cases/{case_id}/status", {"target": "contacted", "version": shown})
    assert response.status_code == 302
    assert events(case_id, "note") == ["Called the chair"]
    assert fresh_status(case_id) == "contacted"


# --- truly simultaneous: two browsers, two threads -----------------------------------------


def test_simultaneous_notes_and_status_changes_are_all_kept(app, people):
    rep, boss = people
    pairs = 6
    case_ids = [new_case(rep) for _ in range(pairs)]
    versions = {case_id: db.session.get(Case, case_id).version for case_id in case_ids}
    clients = {}
    for who, user in (("rep", rep), ("boss", boss)):
        clients[who] = app.test_client()
        login_as(clients[who], user)
    db.session.commit()
    results: list[tuple[str, int, int]] = []

    def send(who: str, case_id: int, barrier: threading.Barrier) -> None:
        with app.app_context():
            client = clients[who]
            if who == "rep":
                url, data = f"/cases/{case_id}/notes", {"note": f"Note on {case_id}"}
            else:
                url = f"/cases/{case_id}/status"
                data = {"target": "contacted", "version": versions[case_id]}
            data["csrf_token"] = csrf_token(client)
            barrier.wait()
            status = client.post(url, data=data).status_code
            results.append((who, case_id, status))

    for case_id in case_ids:
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=send, args=(who, case_id, barrier)) for who in ("rep", "boss")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(results) == sorted(
        (who, case_id, 302) for case_id in case_ids for who in ("rep", "boss")
    )
    for case_id in case_ids:
        assert events(case_id, "note") == [f"Note on {case_id}"]
        assert fresh_status(case_id) == "contacted"


# --- a real conflict gives the form back as typed --------------------------------------------


def test_edit_action_conflict_keeps_what_was_typed(client, people):
    rep, boss = people
    case_id = new_case(rep)
    case = db.session.get(Case, case_id)
    action = ops.add_action(
        case, description="Book the hall", owner="rep", due_on=date(2027, 1, 8), actor=rep, now=NOW
    )
    db.session.commit()
    shown = case.version
    ops.change_status(case, "contacted", boss, NOW + timedelta(hours=1))
    db.session.commit()
    login_as(client, rep)
    response = post(
        client,
        f"/cases/{case_id}/actions/{action.id}/edit",
        {
            "description": "Book the church hall for the AGM",
            "owner": "partnership",
            "due_on": "2027-01-15",
            "version": shown,
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "There is a problem" in html and "Someone else changed this case" in html
    assert "Book the church hall for the AGM" in html and 'value="2027-01-15"' in html
    db.session.expire_all()
    assert db.session.get(Action, action.id).description == "Book the hall"


def test_close_conflict_keeps_the_typed_reason(client, people):
    rep, boss = people
    case_id = new_case(rep)
    shown = db.session.get(Case, case_id).version
    ops.change_status(db.session.get(Case, case_id), "contacted", rep, NOW)
    db.session.commit()
    login_as(client, boss)
    response = post(
        client,
        f"/cases/{case_id}/close",
        {"reason": "The partnership has wound up its Big Local plan", "version": shown},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this case" in html
    assert "The partnership has wound up its Big Local plan" in html
    assert version_in(html) == db.session.get(Case, case_id).version != shown
    assert fresh_status(case_id) == "contacted"
