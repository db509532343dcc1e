"""`flask outbox send`: delivers everything due, batch after batch; clear errors for bad input."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxMessage
from app.operations.outbox import message_id_for
from tests.smtp_server import queue_message, smtp_server_fixture  # noqa: F401


def statuses() -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return dict(rows.all())


def test_send_delivers_everything_due_in_several_batches(app, runner, smtp_server, now):
    smtp_server.configure(app)
    for i in range(5):
        queue_message(f"m{i}", now=now)
    queue_message("tomorrow", now=now, not_before=now + timedelta(days=1))
    db.session.commit()

    result = runner.invoke(args=["outbox", "send", "--now", now.isoformat(), "--batch", "2"])

    assert result.exit_code == 0, result.output
    assert "Sent 5, failed 0, will retry 0." in result.output
    assert "1 remaining in the outbox" in result.output
    assert set(smtp_server.message_ids()) == {message_id_for(f"m{i}") for i in range(5)}
    db.session.expire_all()
    assert statuses() == {"sent": 5, "queued": 1}


def test_now_decides_what_is_due(app, runner, smtp_server, now):
    smtp_server.configure(app)
    queue_message("later", now=now, not_before=now + timedelta(hours=3))
    db.session.commit()

    early = runner.invoke(args=["outbox", "send", "--now", "2026-11-25T12:59:00+00:00"])
    late = runner.invoke(args=["outbox", "send", "--now", "2026-11-25T13:00:00Z"])

    assert "Sent 0" in early.output and "Sent 1" in late.output
    assert len(smtp_server.messages) == 1


def test_a_down_server_is_reported_with_its_error_and_exits_non_zero(app, runner, smtp_server, now):
    smtp_server.configure(app)
    queue_message("m", now=now)
    queue_message("n", now=now)
    db.session.commit()
    smtp_server.stop()

    result = runner.invoke(args=["outbox", "send", "--now", now.isoformat()])

    assert result.exit_code == 1
    assert "Sent 0, failed 0, will retry 1. The mail server failed: ConnectionRefused" in (
        result.output
    )
    assert "(next try after 2026-11-25 10:01 UTC)" in result.output
    assert "2 remaining in the outbox." in result.output
    again = runner.invoke(args=["outbox", "send", "--now", now.isoformat()])
    assert "the sender waits until 2026-11-25 10:01 UTC" in again.output
    assert again.exit_code == 1  # still nothing delivered because of the server's failure


def test_a_run_where_every_mail_was_refused_for_good_exits_non_zero(app, runner, smtp_server, now):
    smtp_server.configure(app)
    smtp_server.refuse.update({"a@example.org", "b@example.org"})
    queue_message("a", now=now, recipient="a@example.org")
    queue_message("b", now=now, recipient="b@example.org")
    db.session.commit()

    result = runner.invoke(args=["outbox", "send", "--now", now.isoformat()])

    assert result.exit_code == 1
    assert "Sent 0, failed 2, will retry 0." in result.output


def test_a_run_that_delivered_something_exits_0_even_with_a_refusal(app, runner, smtp_server, now):
    smtp_server.configure(app)
    smtp_server.refuse.add("a@example.org")
    queue_message("a", now=now, recipient="a@example.org")
    queue_message("b", now=now, recipient="b@example.org")
    db.session.commit()

    result = runner.invoke(args=["outbox", "send", "--now", now.isoformat()])

    assert result.exit_code == 0
    assert "Sent 1, failed 1, will retry 0." in result.output


def test_without_a_mail_server_mail_stays_in_the_outbox(app, runner, now):
    queue_message("m", now=now)
    db.session.commit()

    result = runner.invoke(args=["outbox", "send", "--now", now.isoformat()])

    assert result.exit_code == 0
    assert "No MAIL_SERVER is configured: 1 message(s) stay in the outbox." in result.output
    db.session.expire_all()
    assert statuses() == {"queued": 1}


def test_a_bad_now_is_a_clear_error_with_exit_code_2(app, runner):
    result = runner.invoke(args=["outbox", "send", "--now", "next tuesday"])

    assert result.exit_code == 2
    assert "“next tuesday” is not an ISO date-time" in result.output
    assert "Traceback" not in result.output


def test_a_batch_below_one_is_refused(app, runner):
    result = runner.invoke(args=["outbox", "send", "--batch", "0"])
    assert result.exit_code == 2 and "--batch" in result.output
