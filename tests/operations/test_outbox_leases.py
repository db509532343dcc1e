"""The sender and its leases: a run stays inside its lease and gives back what it has not tried,
a killed sender's claims are taken again after the two-minute claim lease, and a batch goes
over one SMTP connection (counted at the test server). SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxMessage
from app.operations.outbox import DEFAULT_LEASE, message_id_for, send_all_due, send_due
from tests.operations.test_outbox_postgres import finish, queue_many, sender
from tests.smtp_server import smtp_server_fixture  # noqa: F401


def statuses() -> dict[str, int]:
    db.session.expire_all()
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return dict(rows.all())


def test_a_batch_of_mail_goes_over_one_smtp_connection(app, smtp_server, now):
    smtp_server.configure(app)
    keys = queue_many(60, now)

    summary = send_due(now, worker="w1", batch=100)

    assert summary.sent == 60
    assert smtp_server.message_ids() == Counter({message_id_for(key): 1 for key in keys})
    assert smtp_server.connections == 1


def test_each_batch_has_its_own_connection_and_a_refused_recipient_keeps_it(app, smtp_server, now):
    smtp_server.configure(app)
    queue_many(250, now)
    smtp_server.refuse.add("chair7@example.org")  # refused for good, mid-batch

    summary = send_all_due(now, worker="w1", batch=100)

    assert (summary.sent, summary.failed) == (249, 1)
    assert smtp_server.connections == 3  # 100 + 100 + 50


def test_after_the_server_failed_the_next_run_connects_again(app, smtp_server, now):
    smtp_server.configure(app)
    queue_many(5, now)
    smtp_server.stop()
    assert send_due(now, worker="w1").error is not None
    smtp_server.start()

    summary = send_due(now + timedelta(minutes=2), worker="w1")

    assert summary.sent == 5 and smtp_server.connections == 1


def test_a_long_run_stops_inside_its_claim_lease_and_gives_back_the_rest(app, smtp_server, now):
    smtp_server.configure(app)
    queue_many(30, now)
    smtp_server.delay = 0.2  # a slow server: 30 mails would take 6 s
    lease = timedelta(seconds=2)

    started = time.monotonic()
    summary = send_due(now, worker="w1", lease=lease)
    elapsed = time.monotonic() - started

    assert elapsed < lease.total_seconds()
    assert 0 < summary.sent < 30 and summary.sent + summary.released == 30
    assert statuses() == {"sent": summary.sent, "queued": 30 - summary.sent}  # none left claimed
    smtp_server.delay = 0
    assert send_all_due(now, worker="w2").sent == 30 - summary.sent  # taken at once


def test_the_scheduler_send_job_stops_within_its_budget_across_batches(app, smtp_server, now):
    smtp_server.configure(app)
    queue_many(40, now)
    smtp_server.delay = 0.1

    started = time.monotonic()
    summary = send_all_due(now, worker="w1", batch=5, budget=timedelta(seconds=1))
    elapsed = time.monotonic() - started

    assert elapsed < 1.5
    assert 0 < summary.sent < 40
    assert statuses() == {"sent": summary.sent, "queued": 40 - summary.sent}


def test_a_killed_senders_claims_are_taken_again_once_the_two_minute_lease_is_over(
    app, smtp_server, now
):
    keys = queue_many(120, now)
    smtp_server.delay = 0.02  # slow enough to kill the sender half-way
    start = now + timedelta(minutes=1)

    victim = sender(app, smtp_server, start)
    assert smtp_server.wait_for(20), victim.communicate(timeout=5)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert statuses().get("sending", 0) > 0  # it died holding claims
    smtp_server.delay = 0

    # Inside the lease the claims are left alone; just after it they are taken again.
    finish(sender(app, smtp_server, start + DEFAULT_LEASE - timedelta(seconds=5)))
    assert statuses().get("sending", 0) > 0
    finish(sender(app, smtp_server, start + DEFAULT_LEASE + timedelta(seconds=1)))

    received = smtp_server.message_ids()
    assert set(received) == {message_id_for(key) for key in keys}  # nothing lost
    assert sum(n - 1 for n in received.values()) <= 1  # only the one in flight at the kill
    assert statuses() == {"sent": 120}
