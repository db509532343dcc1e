"""The rep's side of the partnership's answers on the case page: the proposal as a diff with
its evaluation, accept, decline with a message, more time yes/no, reopen, ask for an update."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Action, Case, OutboxMessage, PartnershipAnswer
from app.operations import partnership_answers as answers
from app.operations.partnership_links import access_for_token, make_link_token
from app.queries.case_page import current_roster
from app.rules.vocabulary import ReminderKind
from tests.factories import add_snapshot, agreeable_plan, make_area, make_user
from tests.querycount import count_queries
from tests.web.conftest import login_as, post_form

ProposedRow = answers.ProposedRow


@pytest.fixture
def rep(app):
    return make_user("rep", name="Rita Rep")


@pytest.fixture
def case(rep, now):
    area = make_area(rep=rep, contacts=2)
    add_snapshot(area, 7, 5, year=2026, now=now)
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    agreeable_plan(case, rep, now)
    db.session.commit()
    return case


def propose(case, now, contact_index=0, *, leave_first=False, add=("Nia New", "Sam New")):
    area = case.area
    _on, recorded = current_roster(area.id)
    rows = [ProposedRow(r.person_id, r.name, r.resident, r.role) for r in recorded]
    if leave_first:
        rows = rows[1:]
    rows += [ProposedRow("", name, True, "member") for name in add]
    contact = area.contacts[contact_index]
    sent = answers.submit_membership(
        access_for_token(make_link_token(contact), now),
        rows,
        recorded_ids={r.person_id for r in recorded},
        form_key=answers.new_form_key(),
        seen=0,
        now=now,
    )
    db.session.commit()
    return sent.answer


def page_of(client, case) -> str:
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_proposal_shows_as_a_diff_with_the_evaluation_it_would_produce(client, case, rep, now):
    propose(case, now, leave_first=True)
    login_as(client, rep)
    page = page_of(client, case)
    assert f"Membership update from {case.area.contacts[0].name}" in page
    assert "Joins: Nia New" in page and "Joins: Sam New" in page
    assert "Leaves: Person 0" in page
    assert "8 members, 6 of them residents</strong>: at threshold" in page
    assert "Accepting it returns the area within criteria" in page
    assert "Accept the update" in page and "Decline" in page


def test_accepting_resolves_the_case_and_the_timeline_says_from_whom(client, case, rep, now):
    answer = propose(case, now)
    login_as(client, rep)
    response = post_form(client, f"/cases/{case.id}/answers/{answer.id}/accept")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "resolved"
    page = page_of(client, case)
    contact = case.area.contacts[0].name
    assert f"from {contact}" in page  # the answer's timeline entry names its sender
    assert f"Membership updated (proposed by {contact}" in page


def test_declining_needs_a_message_which_is_mailed_to_the_contact(client, case, rep, now):
    answer = propose(case, now)
    login_as(client, rep)
    url = f"/cases/{case.id}/answers/{answer.id}/decline"
    empty = post_form(client, url, {"message": "  "})
    assert empty.status_code == 422
    assert "Enter a message to the partnership." in empty.get_data(as_text=True)
    assert db.session.get(PartnershipAnswer, answer.id).status == "pending"
    response = post_form(client, url, {"message": "Sam has not joined yet."})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(PartnershipAnswer, answer.id).status == "declined"
    mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == ReminderKind.ANSWER_DECIDED)
    )
    assert mail.recipient == case.area.contacts[0].email
    assert "Sam has not joined yet." in mail.body_text


def test_more_time_yes_moves_the_due_date(client, case, rep, now):
    action = db.session.scalar(select(Action))
    new_due = action.due_on + timedelta(days=21)
    contact = case.area.contacts[0]
    answer = answers.submit_more_time(
        access_for_token(make_link_token(contact), now),
        action.id,
        due_on=new_due,
        why="The hall is booked.",
        form_key=answers.new_form_key(),
        now=now,
    ).answer
    db.session.commit()
    login_as(client, rep)
    assert "The hall is booked." in page_of(client, case)
    post_form(client, f"/cases/{case.id}/answers/{answer.id}/accept")
    db.session.expire_all()
    assert db.session.get(Action, action.id).due_on == new_due


def test_the_rep_reopens_an_action_reported_done(client, case, rep, now):
    action = db.session.scalar(select(Action))
    answer = answers.submit_action_done(
        access_for_token(make_link_token(case.area.contacts[0]), now),
        action.id,
        comment="Done and dusted.",
        form_key=answers.new_form_key(),
        now=now,
    ).answer
    db.session.commit()
    login_as(client, rep)
    assert "Reopen the action" in page_of(client, case)
    post_form(client, f"/cases/{case.id}/answers/{answer.id}/reopen", {"message": "Not yet."})
    db.session.expire_all()
    assert db.session.get(Action, action.id).status == "open"
    assert "Reopen the action" not in page_of(client, case)


def test_another_rep_gets_404_and_changes_nothing(client, case, now):
    answer = propose(case, now)
    login_as(client, make_user("rep"))
    response = post_form(client, f"/cases/{case.id}/answers/{answer.id}/accept")
    assert response.status_code == 404
    assert db.session.get(PartnershipAnswer, answer.id).status == "pending"


def test_the_rep_asks_for_an_update_from_the_case_page(client, case, rep):
    login_as(client, rep)
    response = post_form(client, f"/cases/{case.id}/request-update", {"message": "Please."})
    assert response.status_code == 302
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == ReminderKind.UPDATE_REQUEST)
    ).all()
    assert sorted(m.recipient for m in mails) == sorted(c.email for c in case.area.contacts)


def test_the_case_page_query_count_does_not_grow_with_answers(client, case, rep, now):
    login_as(client, rep)
    propose(case, now)
    action = db.session.scalar(select(Action))
    contact = case.area.contacts[1]
    url = f"/cases/{case.id}"

    def count() -> int:
        db.session.remove()  # the request gets a session of its own, as in production
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    count()  # warm up
    one = count()
    propose(db.session.get(Case, case.id), now, contact_index=1, add=("Ada", "Bo", "Cy"))
    answers.submit_action_done(
        access_for_token(make_link_token(db.session.merge(contact)), now),
        action.id,
        comment="Done.",
        form_key=answers.new_form_key(),
        now=now,
    )
    db.session.commit()
    assert count() == one
