"""Reminders that follow the case: moving an action restarts its reminders, a pause holds the
partnership's mail back and ends by itself, the assignment notice is queued with the
assignment, and every cancel trigger leaves nothing to send. End to end through `flask
reminders sweep`, `flask outbox send` and a real SMTP server on loopback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Case, CaseEvent, Contact, OutboxMessage
from app.operations import case_actions as ops
from app.operations.assignment import assign_case, set_area_rep
from app.operations.reminder_pause import pause_reminders
from app.rules.calendar import LONDON
from tests.cli.test_cancelled_mail import mail_to, queued, send, sweep
from tests.cli.test_reminders_end_to_end import london, programme_with_actions
from tests.factories import make_user
from tests.smtp_server import smtp_server_fixture  # noqa: F401
from tests.web.conftest import post_form
from tests.web.test_case_page import login_as

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday, 10:00 London


def rows(**where) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    return list(db.session.scalars(query))


def events(case_id: int, kind: str) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
            .order_by(CaseEvent.id)
        )
    )


def subjects_to(smtp_server, addresses) -> list[str]:
    return sorted(m.message["Subject"] for m in mail_to(smtp_server, addresses))


# --- rescheduling ---------------------------------------------------------------------------


def test_moving_an_action_cancels_its_old_reminders_and_the_sweep_queues_the_new_date(
    app, runner, smtp_server
):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 10)])
    contacts = [c.email for c in area.contacts]
    sweep(runner, london(2026, 11, 25, 7, 0))  # before 09:00: partnership mail waits
    (action,) = case.plan.actions
    old = [m for m in queued(case.id) if m.key.startswith(f"action:{action.id}:")]
    assert {m.key.split(":")[2] for m in old} == {"2026-11-10"} and len(old) == 2
    ops.edit_action(
        case,
        action,
        description=action.description,
        owner="partnership",
        due_on=date(2026, 11, 30),
        actor=case.rep,
        now=NOW,
    )
    db.session.commit()
    moved = rows(status="cancelled")
    assert {m.key for m in moved} == {m.key for m in old}
    assert {m.cancelled_reason for m in moved} == {
        "the action was moved from 10 Nov 2026 to 30 Nov 2026"
    }
    sweep(runner, london(2026, 11, 25, 8, 0))
    fresh = [m for m in queued(case.id) if m.key.startswith(f"action:{action.id}:")]
    assert sorted(m.key for m in fresh) == sorted(
        f"action:{action.id}:2026-11-30:due_soon:c{c.id}" for c in area.contacts
    )
    send(runner, london(2026, 11, 25, 10, 0))
    received = subjects_to(smtp_server, contacts)
    assert len(received) == 2
    assert all("is due on 30 Nov 2026" in s for s in received)
    assert not any(s.startswith("Overdue") for s in received)


def test_an_action_handed_to_the_rep_stops_the_partnerships_reminders(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    sweep(runner, london(2026, 11, 25, 7, 0))
    (action,) = case.plan.actions
    ops.edit_action(
        case,
        action,
        description=action.description,
        owner="rep",
        due_on=action.due_on,
        actor=case.rep,
        now=NOW,
    )
    db.session.commit()
    reasons = {m.cancelled_reason for m in rows(status="cancelled")}
    assert reasons == {"the action is no longer the partnership's"}
    sweep(runner, london(2026, 11, 25, 8, 0))
    send(runner, london(2026, 11, 25, 10, 0))
    assert not mail_to(smtp_server, [c.email for c in area.contacts])


# --- the other cancel triggers (resolve, close, complete and opt-out: test_cancelled_mail) --


def test_dropping_an_action_cancels_its_mail_and_nothing_is_sent(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 10)])
    sweep(runner, london(2026, 11, 25, 7, 0))
    (action,) = case.plan.actions
    ops.drop_action(case, action, actor=case.rep, now=NOW, reason="Not needed")
    db.session.commit()
    assert {m.cancelled_reason for m in rows(status="cancelled")} == {"the action was dropped"}
    send(runner, london(2026, 11, 25, 10, 0))
    assert not mail_to(smtp_server, [c.email for c in area.contacts])


def test_a_removed_contact_gets_nothing_the_sender_cancels_it(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    sweep(runner, london(2026, 11, 25, 7, 0))
    gone, staying = area.contacts
    gone_email = gone.email
    db.session.delete(db.session.get(Contact, gone.id))
    db.session.commit()
    output = send(runner, london(2026, 11, 25, 10, 0))
    assert "whose cause was gone" in output
    cancelled = rows(status="cancelled", recipient=gone_email)
    assert cancelled and {m.cancelled_reason for m in cancelled} == {"the contact was removed"}
    recipients = {r for m in smtp_server.messages for r in m.rcpt_tos}
    assert staying.email in recipients and gone_email not in recipients


def test_a_new_rep_cancels_the_old_reps_mail_and_gets_the_notice_at_once(app, runner, smtp_server):
    smtp_server.configure(app)
    # Opened 20 Oct with no casework since: the stale reminder to the rep is due.
    case, area = programme_with_actions(date(2026, 10, 20), [date(2026, 11, 30)])
    old_rep = case.rep
    sweep(runner, london(2026, 11, 25, 7, 0))
    assert rows(status="queued", recipient=old_rep.email, kind="stale")
    programme = make_user("programme")
    new_rep = make_user("rep", email="sam.rep@example.org")
    assign_case(case, new_rep, actor=programme, now=NOW)
    db.session.commit()
    old_mail = rows(recipient=old_rep.email, kind="stale")
    assert [m.status for m in old_mail] == ["cancelled"]
    assert old_mail[0].cancelled_reason == "the case has another rep now"
    # Queued in the assignment's own transaction, before any sweep.
    (notice,) = rows(recipient=new_rep.email)
    assert (notice.kind, notice.status) == ("new_case", "queued")
    assert notice.key == f"case:{case.id}:assigned:{new_rep.id}"
    assert notice.created_at == NOW
    sweep(runner, london(2026, 11, 25, 10, 0))
    sweep(runner, london(2026, 11, 25, 10, 5))
    assert len(rows(recipient=new_rep.email, kind="new_case")) == 1  # one key, one mail
    send(runner, london(2026, 11, 25, 10, 5))
    assert f"New case assigned to you: {area.name} ({area.code})" in subjects_to(
        smtp_server, [new_rep.email]
    )
    # The old rep's weekly digest (queued before, about all their cases) still goes; the
    # case's own mail to them does not.
    old_subjects = subjects_to(smtp_server, [old_rep.email])
    assert old_subjects and all(s.startswith("Your weekly digest") for s in old_subjects)


def test_the_areas_rep_change_queues_the_notice_for_the_open_case(app, runner, smtp_server):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    new_rep = make_user("rep", email="nia.rep@example.org")
    set_area_rep(area, new_rep, actor=make_user("programme"), now=NOW)
    db.session.commit()
    assert [m.kind for m in rows(recipient=new_rep.email)] == ["new_case"]
    send(runner, london(2026, 11, 25, 10, 0))
    assert len(mail_to(smtp_server, [new_rep.email])) == 1


def test_the_notice_of_an_assignment_through_the_web_is_queued_before_any_sweep(
    app, client, smtp_server
):
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    new_rep = make_user("rep", email="omar.rep@example.org")
    programme = make_user("programme")
    db.session.commit()
    login_as(client, programme)
    response = post_form(
        client,
        f"/cases/{case.id}/assign",
        {"rep_id": str(new_rep.id), "version": str(case.version)},
    )
    assert response.status_code == 302
    assert [(m.kind, m.status) for m in rows(recipient=new_rep.email)] == [("new_case", "queued")]


# --- pausing --------------------------------------------------------------------------------


def pause_by_web(client, case, until: str, reason: str):
    return post_form(
        client,
        f"/cases/{case.id}/reminders/pause",
        {"paused_until": until, "pause_reason": reason, "version": str(case.version)},
    )


def cycle(runner, moment: str) -> None:
    sweep(runner, moment)
    result = runner.invoke(args=["outbox", "send", "--now", moment])
    assert result.exit_code == 0, result.output


def test_a_pause_holds_the_partnerships_mail_back_and_it_resumes_by_itself(
    app, runner, client, smtp_server, freeze_clock
):
    smtp_server.configure(app)
    # Opened 1 Oct: a check-in is due; the action was due 10 Nov: overdue.
    case, area = programme_with_actions(date(2026, 10, 1), [date(2026, 11, 10)])
    contacts = [c.email for c in area.contacts]
    sweep(runner, london(2026, 11, 25, 7, 0))
    waiting = {m.kind for m in queued(case.id) if m.contact_id}
    assert waiting == {"overdue", "checkin"}
    freeze_clock(NOW)
    login_as(client, case.rep)
    response = pause_by_web(client, case, "2026-12-07", "The partnership asked for a break.")
    assert response.status_code == 302
    partnership = [m for m in rows(case_id=case.id) if m.contact_id]
    assert {m.status for m in partnership} == {"cancelled"}
    assert {m.cancelled_reason for m in partnership} == {
        "partnership reminders are paused until 7 Dec 2026"
    }
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Paused until 7 Dec 2026." in page and "The partnership asked for a break." in page
    assert "Partnership reminders paused until 7 Dec 2026" in page  # the timeline
    # Every day of the pause: sweeps and sends, nothing to the partnership.
    for day in range(25, 37):
        moment = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON) + timedelta(days=day - 25)
        cycle(runner, moment.isoformat())
        assert not [m for m in queued(case.id) if m.contact_id], moment
    assert not mail_to(smtp_server, contacts)
    assert mail_to(smtp_server, [case.rep.email]), "the rep's mail should go on"
    # 7 Dec: the pause ends by itself; two sweeps, one "resumed" event.
    cycle(runner, london(2026, 12, 7, 10, 0))
    sweep(runner, london(2026, 12, 7, 10, 30))
    resumed = events(case.id, "reminders_resumed")
    assert len(resumed) == 1 and resumed[0].actor_id is None
    assert (
        resumed[0].message == "Partnership reminders resumed: the pause until 7 Dec 2026 has ended."
    )
    assert db.session.get(Case, case.id).reminders_paused_until is None
    received = subjects_to(smtp_server, contacts)
    assert len(received) == 4  # each contact: the overdue reminder and the check-in, once
    assert sum(s.startswith("Overdue") for s in received) == 2


def test_a_rep_ends_a_pause_early_and_the_next_sweep_queues_what_is_due(
    app, runner, client, smtp_server, freeze_clock
):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    pause_reminders(case, date(2027, 1, 4), "Christmas", actor=case.rep, now=NOW)
    db.session.commit()
    sweep(runner, london(2026, 11, 25, 10, 0))
    assert not [m for m in queued(case.id) if m.contact_id]
    freeze_clock(NOW + timedelta(hours=1))
    login_as(client, case.rep)
    response = post_form(
        client,
        f"/cases/{case.id}/reminders/resume",
        {"version": str(db.session.get(Case, case.id).version)},
    )
    assert response.status_code == 302
    (resumed,) = events(case.id, "reminders_resumed")
    assert resumed.actor_id == case.rep.id and resumed.data["early"] is True
    sweep(runner, london(2026, 11, 25, 11, 0))
    send(runner, london(2026, 11, 25, 11, 0))
    assert len(mail_to(smtp_server, [c.email for c in area.contacts])) == 2


def test_the_sender_holds_back_mail_of_a_case_paused_behind_the_sweeps_back(
    app, runner, smtp_server
):
    smtp_server.configure(app)
    case, area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    sweep(runner, london(2026, 11, 25, 7, 0))
    db.session.execute(
        update(Case).where(Case.id == case.id).values(reminders_paused_until=date(2026, 12, 20))
    )
    db.session.commit()
    send(runner, london(2026, 11, 25, 10, 0))
    assert not mail_to(smtp_server, [c.email for c in area.contacts])
    cancelled = [m for m in rows(case_id=case.id) if m.contact_id]
    assert {m.cancelled_reason for m in cancelled} == {
        "partnership reminders are paused until 20 Dec 2026"
    }
    assert mail_to(smtp_server, [case.rep.email])  # the new-case notice is not held back


def test_a_bad_pause_is_refused_with_its_message_typing_kept_and_nothing_changed(
    app, client, freeze_clock
):
    case, _area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    freeze_clock(NOW)
    login_as(client, case.rep)
    cases = [
        ("2026-11-25", "Summer break", "must be after today"),
        ("2027-12-31", "Summer break", "at most 366 days"),
        ("2026-12-20", "", "Say why the reminders are paused."),
        ("", "Summer break", "Enter the date the reminders start again."),
    ]
    for until, reason, words in cases:
        response = pause_by_web(client, case, until, reason)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, (until, reason)
        assert words in html and 'class="alert alert-danger error-summary"' in html
        if reason:
            assert f"{reason}</textarea>" in html
        if until:
            assert f'value="{until}"' in html
    db.session.expire_all()
    assert db.session.get(Case, case.id).reminders_paused_until is None
    assert events(case.id, "reminders_paused") == []
    long = pause_by_web(client, case, "2026-12-20", "x" * 501)
    assert long.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_pause_on_a_stale_page_is_refused_with_the_typing_kept(app, client, freeze_clock):
    case, _area = programme_with_actions(date(2026, 11, 2), [date(2026, 11, 30)])
    freeze_clock(NOW)
    login_as(client, case.rep)
    response = post_form(
        client,
        f"/cases/{case.id}/reminders/pause",
        {"paused_until": "2026-12-20", "pause_reason": "Break", "version": str(case.version - 1)},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Break</textarea>" in html and 'value="2026-12-20"' in html
    db.session.expire_all()
    assert db.session.get(Case, case.id).reminders_paused_until is None
