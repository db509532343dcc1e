"""The outbox sender against a real database and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, CaseEvent, OutboxMessage
from app.operations.errors import UserError
from app.operations.outbox import (
    backoff_after,
    claim_due,
    message_id_for,
    retry,
    send_all_due,
    send_due,
    sender_backoff,
)
from tests.factories import add_snapshot, make_area, make_user
from tests.querycount import count_queries
from tests.smtp_server import queue_message, smtp_server_fixture  # noqa: F401


def reload(message: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message.id)


def case_for(now):
    from app.models import Case

    rep = make_user("rep")
    area = make_area(rep=rep)
    add_snapshot(area, 6, 4, year=2021)
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    return area, case


def event_kinds(case) -> list[str]:
    query = select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    return list(db.session.scalars(query))


def test_sending_twice_delivers_each_message_once_with_an_id_from_its_key(app, smtp_server, now):
    smtp_server.configure(app)
    keys = ["action:1:due_soon", "action:2:overdue:1", "case:3:check_in:1"]
    messages = [queue_message(k, now=now) for k in keys]
    db.session.commit()

    first = send_due(now, worker="w1")
    second = send_due(now + timedelta(minutes=1), worker="w1")

    assert (first.claimed, first.sent, second.claimed, second.sent) == (3, 3, 0, 0)
    assert smtp_server.message_ids() == {message_id_for(k): 1 for k in keys}
    for message in messages:
        message = reload(message)
        assert (message.status, message.sent_at, message.attempts) == ("sent", now, 1)


def test_the_delivered_email_has_recipient_reply_to_subject_text_and_html(app, smtp_server, now):
    smtp_server.configure(app)
    queue_message(
        "action:7:overdue:1",
        now=now,
        recipient="chair@partnership.example",
        reply_to="rep.person@localtrust.example",
        subject="Action overdue: hold an open meeting",
        body_text="Dear chair,\nThe action is overdue.",
        body_html="<p>Dear chair,</p><p>The action is overdue.</p>",
    )
    db.session.commit()

    send_due(now, worker="w1")

    (received,) = smtp_server.messages
    email = received.message
    assert received.rcpt_tos == ("chair@partnership.example",)
    assert email["To"] == "chair@partnership.example"
    assert email["Reply-To"] == "rep.person@localtrust.example"
    assert email["Subject"] == "Action overdue: hold an open meeting"
    assert email.get_all("Message-ID") == [message_id_for("action:7:overdue:1")]
    assert "The action is overdue." in email.get_body(("plain",)).get_content()
    assert "<p>The action is overdue.</p>" in email.get_body(("html",)).get_content()


def test_a_line_break_in_a_subject_never_reaches_the_mail_headers(app, smtp_server, now):
    """Subjects carry area and people's names; a CRLF there must not add a header."""
    smtp_server.configure(app)
    queue_message(
        "action:8:overdue:1",
        now=now,
        subject="Action overdue: North\r\nBcc: victim@example.org\x1b end",
    )
    db.session.commit()

    send_due(now, worker="w1")

    (received,) = smtp_server.messages
    email = received.message
    assert email["Subject"] == "Action overdue: North Bcc: victim@example.org end"
    assert email["Bcc"] is None
    assert received.rcpt_tos == ("action-8-overdue-1@example.org",)


def test_message_id_is_stable_for_a_key_and_differs_between_keys():
    assert message_id_for("action:1:overdue:1") == message_id_for("action:1:overdue:1")
    assert message_id_for("action:1:overdue:1") != message_id_for("action:1:overdue:2")
    assert message_id_for("x").endswith("@partnership-followup>")


def test_mail_not_yet_due_waits_for_its_time(app, smtp_server, now):
    smtp_server.configure(app)
    later = queue_message("later", now=now, not_before=now + timedelta(hours=2))
    backing_off = queue_message("backing-off", now=now, next_attempt_at=now + timedelta(minutes=3))
    db.session.commit()

    assert send_due(now, worker="w1").claimed == 0
    summary = send_due(now + timedelta(hours=2), worker="w1")

    assert summary.sent == 2
    assert reload(later).status == reload(backing_off).status == "sent"


def test_without_a_mail_server_mail_stays_queued(app, now):
    assert not app.config["MAIL_SERVER"]
    message = queue_message("kept", now=now)
    db.session.commit()

    summary = send_due(now, worker="w1")

    assert summary.claimed == 0 and summary.skipped
    message = reload(message)
    assert (message.status, message.attempts, message.claimed_by) == ("queued", 0, None)


def test_smtp_down_backs_the_sender_off_and_only_the_tried_message_counts(app, smtp_server, now):
    smtp_server.configure(app)
    area, case = case_for(now)
    first = queue_message("action:9:overdue:1", now=now - timedelta(minutes=1), case=case)
    others = [queue_message(f"m{i}", now=now) for i in range(3)]
    db.session.commit()
    smtp_server.stop()

    moment = now
    waits = []
    for attempt in range(1, 7):
        summary = send_due(moment, worker="w1")
        assert (summary.retrying, summary.released, summary.sent) == (1, 3, 0)
        assert "Connection" in summary.error and summary.stalled
        first = reload(first)
        assert (first.status, first.attempts) == ("queued", attempt)
        assert "Connection" in first.last_error
        assert [reload(m).attempts for m in others] == [0, 0, 0]
        waits.append(summary.retry_after - moment)
        # The whole sender waits out its backoff.
        held = send_due(summary.retry_after - timedelta(seconds=1), worker="w1")
        assert held.claimed == 0 and "waits until" in held.skipped
        moment = summary.retry_after
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15)]

    smtp_server.start()
    summary = send_all_due(moment, worker="w1")
    assert (summary.sent, summary.failed) == (4, 0)
    assert sender_backoff() is None
    assert all(reload(m).status == "sent" for m in [first, *others])


def test_the_relay_down_for_two_hours_then_up_delivers_every_message_once(app, smtp_server, now):
    smtp_server.configure(app)
    messages = [queue_message(f"case:{i}:check_in:1", now=now) for i in range(20)]
    db.session.commit()
    smtp_server.stop()

    for minute in range(0, 120):
        send_all_due(now + timedelta(minutes=minute), worker="w1", batch=5)
    assert {reload(m).status for m in messages} == {"queued"}

    smtp_server.start()
    summary = send_all_due(now + timedelta(minutes=135), worker="w1", batch=5)

    assert (summary.sent, summary.failed) == (20, 0)
    assert smtp_server.message_ids() == {message_id_for(m.key): 1 for m in messages}


def test_a_relay_refusing_everything_for_an_hour_fails_nothing(app, smtp_server, now):
    smtp_server.configure(app)
    messages = [queue_message(f"case:{i}:check_in:1", now=now) for i in range(10)]
    db.session.commit()
    smtp_server.refuse_all = True

    for minute in range(0, 60):
        summary = send_all_due(now + timedelta(minutes=minute), worker="w1")
        assert summary.failed == 0
    assert {reload(m).status for m in messages} == {"queued"}
    assert "554" in reload(messages[0]).last_error
    assert sum(reload(m).attempts for m in messages) < 10 + 1  # one try per sender run

    smtp_server.refuse_all = False
    summary = send_all_due(now + timedelta(minutes=75), worker="w1")

    assert (summary.sent, summary.failed) == (10, 0)
    assert len(smtp_server.messages) == 10


def test_a_message_refused_only_for_the_servers_state_fails_after_the_give_up_time(
    app, smtp_server, now
):
    smtp_server.configure(app)
    app.config.update(OUTBOX_GIVE_UP_HOURS=72)
    message = queue_message("old", now=now)
    db.session.commit()
    smtp_server.stop()

    assert send_all_due(now + timedelta(hours=71), worker="w1").failed == 0
    summary = send_all_due(now + timedelta(hours=72), worker="w1")

    message = reload(message)
    assert (summary.failed, message.status) == (1, "failed")
    assert "Gave up after" in message.last_error and "Connection" in message.last_error


def test_a_failed_message_can_be_retried_by_hand(app, smtp_server, now):
    smtp_server.configure(app)
    admin = make_user("programme")
    message = queue_message("action:9:overdue:1", now=now, status="failed", attempts=5)
    db.session.commit()

    retry(message.id, now, admin.id)
    db.session.commit()
    assert send_due(now, worker="w1").sent == 1

    assert reload(message).status == "sent"
    assert smtp_server.message_ids() == {message_id_for("action:9:overdue:1"): 1}
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outbox_retry"))
    assert (audit.actor_id, audit.target_id, audit.data["attempts"]) == (admin.id, message.id, 5)


def test_a_permanently_refused_recipient_fails_at_once(app, smtp_server, now):
    smtp_server.configure(app)
    smtp_server.refuse.add("gone@example.org")
    bad = queue_message("bad", now=now, recipient="gone@example.org")
    good = queue_message("good", now=now)
    db.session.commit()

    summary = send_due(now, worker="w1")

    assert (summary.failed, summary.sent) == (1, 1)
    bad = reload(bad)
    assert (bad.status, bad.attempts) == ("failed", 1)
    assert "550" in bad.last_error
    assert reload(good).status == "sent"


def test_a_sent_email_is_on_the_case_timeline_without_counting_as_activity(app, smtp_server, now):
    smtp_server.configure(app)
    area, case = case_for(now)
    activity_before = case.last_activity_at
    queue_message("case:1:check_in:1", now=now, case=case, recipient="chair@example.org")
    db.session.commit()

    send_due(now + timedelta(days=3), worker="w1")

    db.session.expire_all()
    event = db.session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "email_sent")
    )
    assert event is not None and "chair@example.org" in event.message
    assert event.created_at == now + timedelta(days=3)
    assert db.session.get(type(case), case.id).last_activity_at == activity_before


def test_a_sent_email_writes_its_outcome_and_exactly_one_event_naming_it(app, smtp_server, now):
    """The sent status and the email_sent event go in one statement on PostgreSQL, two on
    SQLite: the same row and the same event either way, and nothing on the other messages."""
    smtp_server.configure(app)
    area, case = case_for(now)
    sent = queue_message("case:1:check_in:1", now=now, case=case, recipient="chair@example.org")
    later = queue_message("case:1:check_in:2", now=now + timedelta(days=9), case=case)
    db.session.commit()

    send_due(now + timedelta(days=3), worker="w1")

    db.session.expire_all()
    row = db.session.get(OutboxMessage, sent.id)
    assert (row.status, row.attempts, row.sent_at, row.last_error, row.next_attempt_at) == (
        "sent",
        1,
        now + timedelta(days=3),
        None,
        None,
    )
    assert db.session.get(OutboxMessage, later.id).status == "queued"
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.kind == "email_sent").order_by(CaseEvent.id)
    ).all()
    assert [(e.case_id, e.actor_id, e.message, e.data) for e in events] == [
        (
            case.id,
            None,
            f"Email sent to chair@example.org: {row.subject}",
            {"outbox_id": sent.id, "kind": row.kind, "recipient": "chair@example.org"},
        )
    ]


def test_mail_to_a_contact_who_opted_out_since_it_was_queued_is_not_sent(app, smtp_server, now):
    smtp_server.configure(app)
    area = make_area(contacts=1)
    contact = area.contacts[0]
    message = queue_message("to-contact", now=now, contact=contact, recipient=contact.email)
    contact.opted_out = True
    contact.opted_out_at = now
    db.session.commit()

    send_due(now, worker="w1")

    message = reload(message)
    assert message.status == "failed" and "opted out" in message.last_error
    assert smtp_server.messages == []


def test_a_claim_abandoned_by_a_dead_sender_is_taken_again_after_the_lease(app, smtp_server, now):
    smtp_server.configure(app)
    stale = queue_message(
        "stale",
        now=now,
        status="sending",
        claimed_by="dead",
        claimed_at=now - timedelta(minutes=11),
    )
    busy = queue_message(
        "busy", now=now, status="sending", claimed_by="alive", claimed_at=now - timedelta(minutes=2)
    )
    db.session.commit()

    summary = send_due(now, worker="w2")

    assert summary.sent == 1
    assert (reload(stale).status, reload(stale).claimed_by) == ("sent", "w2")
    assert (reload(busy).status, reload(busy).claimed_by) == ("sending", "alive")


def test_messages_claimed_by_one_sender_are_not_sent_by_another(app, smtp_server, now):
    smtp_server.configure(app)
    for i in range(4):
        queue_message(f"m{i}", now=now)
    db.session.commit()

    first = claim_due(now, worker="w1", batch=3)
    summary = send_due(now, worker="w2")

    assert len(first) == 3
    assert (summary.claimed, summary.sent) == (1, 1)
    claimed_by = db.session.scalars(select(OutboxMessage.claimed_by).order_by(OutboxMessage.id))
    assert sorted(claimed_by) == ["w1", "w1", "w1", "w2"]


def test_send_all_due_works_through_every_batch(app, smtp_server, now):
    smtp_server.configure(app)
    for i in range(7):
        queue_message(f"m{i}", now=now)
    db.session.commit()

    summary = send_all_due(now, worker="w1", batch=3)

    assert (summary.claimed, summary.sent) == (7, 7)
    assert len(smtp_server.messages) == 7


@pytest.mark.parametrize("count", [2, 12])
def test_reads_per_batch_do_not_grow_with_the_batch(app, smtp_server, now, count):
    smtp_server.configure(app)
    for i in range(count):
        area, case = case_for(now)
        queue_message(f"m{i}", now=now, case=case, contact=area.contacts[0])
    db.session.commit()
    db.session.expire_all()

    with count_queries() as counter:
        send_due(now, worker="w1")

    selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    # the sender's backoff, candidates, messages, their cases, opted-out contacts
    assert len(selects) == 5
    assert len(smtp_server.messages) == count


def test_retry_refuses_a_message_that_has_not_failed(app, now):
    message = queue_message("queued", now=now)
    db.session.commit()

    with pytest.raises(UserError, match="Only a failed message"):
        retry(message.id, now, None)
    with pytest.raises(UserError, match="no longer exists"):
        retry(message.id + 1000, now, None)


def test_backoff_doubles_from_one_minute_and_is_capped():
    assert [backoff_after(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff_after(30) == backoff_after(5000) == timedelta(minutes=15)
    assert backoff_after(2, timedelta(seconds=10)) == timedelta(seconds=20)


def test_retry_settings_come_from_the_config(app, smtp_server, now):
    smtp_server.configure(app)
    app.config.update(OUTBOX_GIVE_UP_HOURS=1, OUTBOX_BACKOFF_SECONDS=30)
    message = queue_message("m", now=now)
    db.session.commit()
    smtp_server.stop()

    assert send_all_due(now, worker="w1").retry_after == now + timedelta(seconds=30)
    send_all_due(now + timedelta(hours=1), worker="w1")

    assert reload(message).status == "failed"


def test_a_sender_out_of_time_gives_back_what_it_has_not_tried(app, smtp_server, now):
    smtp_server.configure(app)
    messages = [queue_message(f"m{i}", now=now) for i in range(3)]
    db.session.commit()

    # With no lease at all the sender is out of time before its first message.
    summary = send_due(now, worker="w1", lease=timedelta(0))

    assert (summary.claimed, summary.released, summary.sent) == (3, 3, 0)
    assert [reload(m).status for m in messages] == ["queued"] * 3
    assert smtp_server.messages == []
    assert send_due(now, worker="w2").sent == 3  # free for the next run at once
