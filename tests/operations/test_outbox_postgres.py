"""PostgreSQL only: real `flask outbox send` processes racing each other, and one killed mid-batch.

Each delivered email is counted by its Message-ID at a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import OutboxMessage
from app.operations.outbox import message_id_for
from tests.smtp_server import smtp_server_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
FLASK = ROOT / ".venv" / "bin" / "flask"


@pytest.fixture(autouse=True)
def postgresql_only(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (row locks with SKIP LOCKED); set TEST_DATABASE_URL")


def queue_many(count: int, now) -> list[str]:
    keys = [f"action:{i}:overdue:1" for i in range(count)]
    rows = [
        {
            "key": key,
            "kind": "action_overdue",
            "recipient": f"chair{i}@example.org",
            "subject": f"Reminder {i}",
            "body_text": f"Text {i}",
            "body_html": f"<p>HTML {i}</p>",
            "not_before": now,
            "status": "queued",
            "attempts": 0,
            "created_at": now,
        }
        for i, key in enumerate(keys)
    ]
    db.session.execute(insert(OutboxMessage), rows)
    db.session.commit()
    return keys


def sender(app, server, now, *extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret-key-for-the-sender-subprocesses",
        "SCHEDULER_ENABLED": "0",
        **server.env(),
    }
    env.pop("APP_CONFIG", None)
    executable = str(FLASK) if FLASK.exists() else sys.executable
    args = [executable] if FLASK.exists() else [executable, "-m", "flask"]
    return subprocess.Popen(
        [*args, "--app", "app", "outbox", "send", "--now", now.isoformat(), *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    return out


def statuses() -> dict[str, int]:
    db.session.expire_all()
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return dict(rows.all())


def test_two_senders_at_once_deliver_each_of_500_mails_exactly_once(app, smtp_server, now):
    keys = queue_many(500, now)
    # Nothing is accepted before both senders are connected, each holding a claimed batch.
    smtp_server.hold_until_senders = 2

    first = sender(app, smtp_server, now + timedelta(minutes=1), "--batch", "20")
    second = sender(app, smtp_server, now + timedelta(minutes=1), "--batch", "20")
    outputs = [finish(first), finish(second)]

    received = smtp_server.message_ids()
    assert received == Counter({message_id_for(key): 1 for key in keys})
    assert statuses() == {"sent": 500}
    sent_by = [int(out.split("Sent ")[1].split(",")[0]) for out in outputs]
    assert sum(sent_by) == 500 and min(sent_by) >= 20  # both really sent, side by side


def test_a_sender_killed_mid_batch_is_finished_by_a_later_run_with_at_most_one_duplicate(
    app, smtp_server, now
):
    keys = queue_many(200, now)
    smtp_server.delay = 0.01  # slow enough to kill the sender half-way

    victim = sender(app, smtp_server, now + timedelta(minutes=1))
    assert smtp_server.wait_for(40), victim.communicate(timeout=5)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    delivered_before = len(smtp_server.messages)
    assert delivered_before < len(keys)  # it really died part-way
    assert statuses().get("sending", 0) > 0  # …leaving claimed rows behind

    # Later than the claim lease (2 minutes): the dead sender's claims are taken again.
    smtp_server.delay = 0
    finish(sender(app, smtp_server, now + timedelta(minutes=4)))

    received = smtp_server.message_ids()
    assert set(received) == {message_id_for(key) for key in keys}  # nothing lost
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= 1  # only the one in flight at the kill may go twice
    assert statuses() == {"sent": 200}


def test_a_restart_within_the_lease_leaves_the_dead_senders_claims_alone(app, smtp_server, now):
    keys = queue_many(40, now)
    smtp_server.delay = 0.02

    victim = sender(app, smtp_server, now + timedelta(minutes=1), "--batch", "40")
    assert smtp_server.wait_for(5), victim.communicate(timeout=5)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    time.sleep(0.2)
    delivered = len(smtp_server.messages)

    smtp_server.delay = 0
    out = finish(sender(app, smtp_server, now + timedelta(minutes=2)))

    assert "Sent 0," in out  # its claims are younger than the lease
    assert len(smtp_server.messages) == delivered
    assert statuses()["sending"] == len(keys) - statuses().get("sent", 0)
