"""The partnership's answers through their personal link, and the rep's decisions on them."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Action, Case, CaseEvent, OutboxMessage, PartnershipAnswer, Snapshot
from app.operations import partnership_answers as answers
from app.operations.case_actions import InvalidInput
from app.operations.errors import UserError
from app.operations.outbox import send_all_due
from app.operations.partnership_links import access_for_token, make_link_token
from app.queries.case_page import current_roster
from app.rules.vocabulary import AnswerStatus, EventKind, ReminderKind
from tests.factories import add_snapshot, agreeable_plan, make_area, make_user
from tests.smtp_server import smtp_server_fixture  # noqa: F401

ProposedRow = answers.ProposedRow


@pytest.fixture
def rep(app):
    return make_user("rep", name="Rita Rep")


@pytest.fixture
def area(rep, now):
    area = make_area(rep=rep, contacts=2)
    add_snapshot(area, 7, 5, year=2026, now=now)  # 7 members: under criteria, a case opens
    db.session.commit()
    return area


@pytest.fixture
def case(area):
    return db.session.scalar(select(Case).where(Case.area_id == area.id))


def access(contact, now):
    return access_for_token(make_link_token(contact), now)


def recorded(area):
    return current_roster(area.id)[1]


def proposal(area, extra=2, extra_residents=1):
    """The recorded roster plus `extra` new people (the first `extra_residents` residents)."""
    rows = [ProposedRow(r.person_id, r.name, r.resident, r.role) for r in recorded(area)]
    rows += [ProposedRow("", f"New {i}", i < extra_residents, "member") for i in range(extra)]
    return rows


def ids(area):
    return {r.person_id for r in recorded(area)}


def send_roster(contact, area, now, *, key=None, seen=0, rows=None):
    return answers.submit_membership(
        access(contact, now),
        rows if rows is not None else proposal(area),
        recorded_ids=ids(area),
        form_key=key or answers.new_form_key(),
        seen=seen,
        now=now,
    )


def outbox(kind):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).all()


def events(case, kind):
    query = select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == kind)
    return db.session.scalars(query.order_by(CaseEvent.id)).all()


def test_a_proposal_waits_with_a_timeline_entry_one_rep_notice_and_a_confirmation(
    area, case, rep, now
):
    contact = area.contacts[0]
    sent = send_roster(contact, area, now)
    db.session.commit()
    answer = sent.answer
    assert (answer.status, answer.contact_name, answer.submitted_at) == (
        AnswerStatus.PENDING,
        contact.name,
        now,
    )
    assert len(answer.rows) == 9
    (event,) = events(case, EventKind.ANSWER_RECEIVED)
    assert event.message.startswith(f"Membership update from {contact.name}: 9 members, 6 of")
    assert event.data["contact_name"] == contact.name
    (notice,) = outbox(ReminderKind.ANSWER_NOTICE)
    assert notice.recipient == rep.email and notice.reply_to == contact.email
    assert f"/cases/{case.id}" in notice.body_text
    assert notice.subject.startswith(f"{contact.name} answered (membership update) – ")
    (confirmation,) = outbox(ReminderKind.ANSWER_CONFIRMATION)
    assert confirmation.recipient == contact.email and confirmation.contact_id == contact.id
    # The link is made when the mail is sent; the stored mail holds a placeholder only.
    assert "/partnership/" not in confirmation.body_text
    assert "personal link, made when this email is sent" in confirmation.body_text
    assert db.session.scalar(select(func.count()).select_from(Snapshot)) == 1  # nothing stored


def test_the_same_form_sent_twice_makes_one_proposal(area, case, now):
    contact = area.contacts[0]
    key = answers.new_form_key()
    first = send_roster(contact, area, now, key=key)
    db.session.commit()
    second = send_roster(contact, area, now + timedelta(seconds=2), key=key)
    db.session.commit()
    assert second.duplicate and second.answer.id == first.answer.id
    assert db.session.scalar(select(func.count()).select_from(PartnershipAnswer)) == 1
    assert len(outbox(ReminderKind.ANSWER_NOTICE)) == 1
    assert len(events(case, EventKind.ANSWER_RECEIVED)) == 1


def test_accepting_makes_an_update_dated_when_sent_and_the_rules_resolve_the_case(
    area, case, rep, now
):
    contact = area.contacts[0]
    answer = send_roster(contact, area, now).answer
    db.session.commit()
    later = now + timedelta(days=3)
    message = answers.accept_membership(answer, rep, later)
    db.session.commit()
    assert "the case is resolved" in message
    assert case.status == "resolved" and case.resolved_on == now.date()
    update = db.session.scalar(select(Snapshot).where(Snapshot.kind == "update"))
    assert (update.effective_on, update.members, update.residents) == (now.date(), 9, 6)
    assert (answer.status, answer.decided_by_id, answer.decided_at) == ("accepted", rep.id, later)
    (updated,) = events(case, EventKind.MEMBERSHIP_UPDATED)
    assert f"proposed by {contact.name}" in updated.message and updated.actor_id == rep.id
    assert len(events(case, EventKind.RESOLVED)) == 1
    # The contact hears of it, even though the case is resolved (its other mail is cancelled).
    (decided,) = outbox(ReminderKind.ANSWER_DECIDED)
    assert decided.status == "queued" and "accepted" in decided.subject
    (confirmation,) = outbox(ReminderKind.ANSWER_CONFIRMATION)
    assert confirmation.status == "queued"


def test_two_contacts_at_once_give_two_proposals_each_decided_on_its_own(area, case, rep, now):
    first = send_roster(area.contacts[0], area, now, seen=0).answer
    # The second contact opened the page before the first proposal arrived (seen=0).
    second = send_roster(
        area.contacts[1], area, now, seen=0, rows=proposal(area, extra=1, extra_residents=1)
    ).answer
    db.session.commit()
    assert (first.status, second.status) == ("pending", "pending")
    answers.decline(second, "We counted New 0 already.", rep, now)
    db.session.commit()
    assert (first.status, second.status) == ("pending", "declined")
    answers.accept_membership(first, rep, now)
    db.session.commit()
    assert first.status == "accepted" and case.status == "resolved"
    (declined,) = events(case, EventKind.ANSWER_DECLINED)
    assert "We counted New 0 already." in declined.message


def test_a_newer_proposal_supersedes_an_undecided_one_it_has_seen(area, case, rep, now):
    older = send_roster(area.contacts[0], area, now).answer
    db.session.commit()
    newer = send_roster(area.contacts[1], area, now + timedelta(hours=1), seen=older.id).answer
    db.session.commit()
    assert (older.status, newer.status) == ("superseded", "pending")
    (_, second_event) = events(case, EventKind.ANSWER_RECEIVED)
    assert "It replaces the update not yet decided from" in second_event.message
    with pytest.raises(UserError, match="dealt with already"):
        answers.accept_membership(older, rep, now)


def test_a_contacts_own_newer_proposal_supersedes_their_older_one(area, case, now):
    contact = area.contacts[0]
    older = send_roster(contact, area, now).answer
    newer = send_roster(contact, area, now, seen=0).answer
    db.session.commit()
    assert (older.status, newer.status) == ("superseded", "pending")


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        (ProposedRow("", "   ", True, "member"), "rows-7-name", "Enter the person's name"),
        (ProposedRow("", "x" * 201, True, "member"), "rows-7-name", "at most 200"),
        (ProposedRow("", "Bad\x00Name", True, "member"), "rows-7-name", "control character"),
        (ProposedRow("", "Line\nbreak", True, "member"), "rows-7-name", "control character"),
        (ProposedRow("", "Odd role", True, "mayor"), "rows-7-role", "Choose a role"),
    ],
)
def test_what_a_contact_types_is_validated_and_nothing_is_stored(area, now, row, field, words):
    rows = [*proposal(area, extra=0), row]
    with pytest.raises(InvalidInput) as caught:
        send_roster(area.contacts[0], area, now, rows=rows)
    assert words in caught.value.errors[field]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PartnershipAnswer)) == 0


def test_a_roster_of_only_workers_is_refused(area, now):
    rows = [ProposedRow("", "Wendy Worker", False, "worker")]
    with pytest.raises(InvalidInput) as caught:
        send_roster(area.contacts[0], area, now, rows=rows)
    assert "at least one counted member" in caught.value.errors["rows"]


def test_a_person_id_not_on_the_recorded_roster_counts_as_new(area, rep, now):
    rows = [*proposal(area), ProposedRow("someone-elses-id", "Stranger", True, "member")]
    answer = send_roster(area.contacts[0], area, now, rows=rows).answer
    assert answer.rows[-1]["person_id"] == ""


def test_an_area_without_an_open_case_takes_no_answer(area, case, now):
    case.status = "closed"
    db.session.commit()
    with pytest.raises(UserError, match="no open case"):
        send_roster(area.contacts[0], area, now)


# --- actions ----------------------------------------------------------------------------------


@pytest.fixture
def action(case, rep, now):
    agreeable_plan(case, rep, now)
    db.session.commit()
    return db.session.scalar(select(Action))


def test_an_action_reported_done_is_done_at_once_and_the_rep_can_reopen_it(
    area, case, rep, action, now
):
    contact = area.contacts[0]
    sent = answers.submit_action_done(
        access(contact, now), action.id, comment="Two joined.", form_key="k" * 20, now=now
    )
    db.session.commit()
    assert action.status == "done" and sent.answer.status == "accepted"
    (received,) = events(case, EventKind.ANSWER_RECEIVED)
    assert "reported “Invite two residents” done: Two joined." in received.message
    assert len(outbox(ReminderKind.ANSWER_NOTICE)) == 1
    with pytest.raises(InvalidInput):
        answers.reopen(sent.answer, "", rep, now)
    answers.reopen(sent.answer, "Only one joined so far.", rep, now)
    db.session.commit()
    assert action.status == "open" and action.completed_at is None
    assert sent.answer.status == "declined"
    (reopened,) = events(case, EventKind.ACTION_REOPENED)
    assert "Only one joined so far." in reopened.message
    (decided,) = outbox(ReminderKind.ANSWER_DECIDED)
    assert "Only one joined so far." in decided.body_text


def test_an_action_done_needs_a_comment(area, action, now):
    with pytest.raises(InvalidInput) as caught:
        answers.submit_action_done(
            access(area.contacts[0], now), action.id, comment=" ", form_key="k" * 20, now=now
        )
    assert "Enter a comment" in caught.value.errors["comment"]


def test_more_time_moves_the_due_date_when_the_rep_says_yes(area, case, rep, action, now):
    old_due = action.due_on
    sent = answers.submit_more_time(
        access(area.contacts[0], now),
        action.id,
        due_on=old_due + timedelta(days=30),
        why="The hall is closed in December.",
        form_key="m" * 20,
        now=now,
    )
    db.session.commit()
    assert action.due_on == old_due and sent.answer.status == "pending"
    answers.accept_more_time(sent.answer, rep, now)
    db.session.commit()
    assert action.due_on == old_due + timedelta(days=30)
    assert sent.answer.status == "accepted"
    assert len(events(case, EventKind.ACTION_UPDATED)) == 1  # through the action-update operation


def test_more_time_declined_leaves_the_due_date(area, rep, action, now):
    old_due = action.due_on
    sent = answers.submit_more_time(
        access(area.contacts[0], now),
        action.id,
        due_on=old_due + timedelta(days=30),
        why="Busy.",
        form_key="n" * 20,
        now=now,
    )
    answers.decline(sent.answer, "The funder needs it by then.", rep, now)
    db.session.commit()
    assert action.due_on == old_due and sent.answer.status == "declined"


@pytest.mark.parametrize(
    ("due_on", "words"),
    [
        (None, "Enter the date"),
        (date(2026, 11, 1), "after the current due date"),
        (date(2028, 1, 1), "within a year"),
    ],
)
def test_more_time_needs_a_later_date_within_a_year(area, action, now, due_on, words):
    with pytest.raises(InvalidInput) as caught:
        answers.submit_more_time(
            access(area.contacts[0], now),
            action.id,
            due_on=due_on,
            why="Because.",
            form_key="d" * 20,
            now=now,
        )
    assert words in caught.value.errors["due_on"]


def test_an_action_of_another_area_is_not_found(area, rep, now):
    other = make_area(rep=rep)
    add_snapshot(other, 6, 4, year=2026, now=now)
    other_case = db.session.scalar(select(Case).where(Case.area_id == other.id))
    agreeable_plan(other_case, rep, now)
    db.session.commit()
    foreign = db.session.scalar(select(Action).where(Action.plan.has(case_id=other_case.id)))
    with pytest.raises(UserError, match="not open any more"):
        answers.submit_action_done(
            access(area.contacts[0], now), foreign.id, comment="x", form_key="f" * 20, now=now
        )


def test_another_rep_cannot_decide(area, case, now):
    answer = send_roster(area.contacts[0], area, now).answer
    stranger = make_user("rep")
    with pytest.raises(UserError, match="not assigned to you"):
        answers.accept_membership(answer, stranger, now)
    with pytest.raises(UserError, match="not assigned to you"):
        answers.decline(answer, "No.", stranger, now)


def test_the_rep_asks_every_contact_who_gets_mail_for_an_update(area, case, rep, now):
    area.contacts[1].opted_out = True
    assert answers.request_update(case, "Before the meeting, please.", rep, now) == 1
    db.session.commit()
    (mail,) = outbox(ReminderKind.UPDATE_REQUEST)
    assert mail.recipient == area.contacts[0].email and mail.reply_to == rep.email
    assert "Before the meeting, please." in mail.body_text
    (event,) = events(case, EventKind.UPDATE_REQUESTED)
    assert area.contacts[0].name in event.message


def test_the_sender_puts_a_fresh_working_personal_link_in_each_partnership_mail(
    app, area, case, rep, now, smtp_server
):
    import re

    smtp_server.configure(app)
    answers.request_update(case, "", rep, now)
    db.session.commit()
    send_all_due(now + timedelta(days=1), worker="test")
    texts = [m.message.get_body(("plain",)).get_content() for m in smtp_server.messages]
    links = [re.search(r"/partnership/(\S+)", text).group(1) for text in texts]
    assert len(set(links)) == 2  # one per contact
    opened = {access_for_token(token, now).contact.id for token in links}
    assert opened == {c.id for c in area.contacts}
    stored = outbox(ReminderKind.UPDATE_REQUEST)[0]
    assert "/partnership/" not in stored.body_text + stored.body_html


def test_the_same_form_sent_twice_at_the_same_moment_makes_one_proposal(app, area, now):
    """Two requests with one form key racing (a double click): one answer, one notice."""
    import threading

    contact_id = area.contacts[0].id
    rows, recorded_ids = proposal(area), ids(area)
    key = answers.new_form_key()
    barrier = threading.Barrier(2)
    results: list[object] = []

    def send() -> None:
        with app.app_context():
            try:
                from app.models import Contact

                contact = db.session.get(Contact, contact_id)
                link = access(contact, now)
                barrier.wait(timeout=10)
                sent = answers.submit_membership(
                    link, rows, recorded_ids=recorded_ids, form_key=key, seen=0, now=now
                )
                db.session.commit()
                results.append((sent.answer.id, sent.duplicate))
            except Exception as exc:  # reported below
                results.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({answer_id for answer_id, _ in results}) == 1
    assert sorted(duplicate for _, duplicate in results) == [False, True]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PartnershipAnswer)) == 1
    assert len(outbox(ReminderKind.ANSWER_NOTICE)) == 1
