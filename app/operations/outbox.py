"""The outbox sender: claim due mail, deliver it over SMTP through Flask-Mail, retry with backoff.

Delivery is at-least-once and, in practice, exactly once: a message is claimed in its own
committed transaction (PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent senders never share a
row), then each message is sent and its outcome committed on its own. A sender that dies leaves
its claimed rows in 'sending'; once their claim is older than the lease a later run takes them
again, so only the message in flight at the crash can be delivered twice."""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_mail import BadHeaderError, Connection, Message
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Contact, OutboxMessage
from app.operations.audit import record_audit
from app.operations.casework import record_event
from app.operations.errors import UserError
from app.operations.users import bodies_to_send

MESSAGE_ID_DOMAIN = "partnership-followup"
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF = timedelta(minutes=1)  # then 2, 4, 8 … minutes
MAX_BACKOFF = timedelta(hours=6)
# A claim older than this is taken to belong to a dead sender and is taken again.
DEFAULT_LEASE = timedelta(minutes=10)
SMTP_TIMEOUT_SECONDS = 30
ERROR_LIMIT = 2000


@dataclass
class SendSummary:
    """What one `send_due` call did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0  # failed this time, queued again for later
    failed: int = 0  # gave up: status 'failed'
    released: int = 0  # claimed but not tried (time budget), queued again at once
    skipped: str | None = None  # why nothing was tried, e.g. no MAIL_SERVER

    def line(self) -> str:
        if self.skipped:
            return f"Nothing sent: {self.skipped}."
        return f"Sent {self.sent}, failed {self.failed}, will retry {self.retrying}."

    def add(self, other: SendSummary) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.released += other.released
        self.skipped = self.skipped or other.skipped


def message_id_for(key: str) -> str:
    """A Message-ID derived from the reminder key, so a resend carries the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def mail_configured() -> bool:
    """With no MAIL_SERVER (the embedded default) mail stays in the outbox."""
    return bool(current_app.config.get("MAIL_SERVER"))


def backoff_after(attempts: int, base: timedelta = DEFAULT_BACKOFF) -> timedelta:
    """Wait before the next try after `attempts` failed ones: base, 2×base, 4×base … capped."""
    return min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def due_clause(now: datetime, lease: timedelta = DEFAULT_LEASE):
    """Queued mail whose time has come, or claims abandoned by a dead sender."""
    return or_(
        and_(
            OutboxMessage.status == "queued",
            OutboxMessage.not_before <= now,
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        ),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - lease),
    )


def claim_due(
    now: datetime, *, worker: str, batch: int = 100, lease: timedelta = DEFAULT_LEASE
) -> list[int]:
    """Mark up to `batch` due messages as 'sending' by `worker` and commit; return their ids."""
    candidates = (
        select(OutboxMessage.id)
        .where(due_clause(now, lease))
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(batch)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has a single writer anyway
    )
    ids = list(db.session.scalars(candidates))
    if not ids:
        db.session.commit()
        return []
    # Re-checking the due clause makes the claim safe where rows are not locked (SQLite).
    claim = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), due_clause(now, lease))
        .values(status="sending", claimed_at=now, claimed_by=worker)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    claimed = sorted(db.session.scalars(claim))
    db.session.commit()
    return claimed


def send_due(
    now: datetime,
    *,
    worker: str,
    batch: int = 100,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    backoff: timedelta = DEFAULT_BACKOFF,
    lease: timedelta = DEFAULT_LEASE,
) -> SendSummary:
    """Deliver one batch of due mail; each outcome is committed on its own."""
    if not mail_configured():
        return SendSummary(skipped="no MAIL_SERVER is configured: mail stays in the outbox")
    ids = claim_due(now, worker=worker, batch=batch, lease=lease)
    summary = SendSummary(claimed=len(ids))
    if not ids:
        return summary
    messages = _load(ids)
    opted_out = _opted_out_contacts(messages)
    # Stop well inside the lease so no other sender takes our claims while we still hold them.
    deadline = time.monotonic() + lease.total_seconds() / 2
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    courier = _Courier()
    try:
        for position, message in enumerate(messages):
            if time.monotonic() > deadline:
                summary.released = _release(messages[position:], worker)
                break
            if message.contact_id in opted_out:
                _give_up(message, now, "Not sent: the contact has opted out of email.")
                summary.failed += 1
            else:
                _deliver_one(courier, message, now, summary, max_attempts, backoff)
            db.session.commit()
    finally:
        courier.close()
        session.expire_on_commit = expire_on_commit
    return summary


def options_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """send_due's retry settings from the app config (OUTBOX_* keys), defaults otherwise."""
    return {
        "max_attempts": int(config.get("OUTBOX_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)),
        "backoff": timedelta(
            seconds=int(config.get("OUTBOX_BACKOFF_SECONDS", DEFAULT_BACKOFF.total_seconds()))
        ),
        "lease": timedelta(
            seconds=int(config.get("OUTBOX_LEASE_SECONDS", DEFAULT_LEASE.total_seconds()))
        ),
    }


def send_all_due(
    now: datetime, *, worker: str, batch: int = 100, max_batches: int = 1000, **options
) -> SendSummary:
    """Send batches until nothing is due (failures wait for their backoff, so this ends).

    Retry settings not given come from the app config (see `options_from_config`)."""
    options = {**options_from_config(current_app.config), **options}
    total = SendSummary()
    for _ in range(max_batches):
        summary = send_due(now, worker=worker, batch=batch, **options)
        total.add(summary)
        if summary.skipped or summary.claimed == 0 or summary.released:
            break
    return total


def count_queued() -> int:
    """Mail still waiting (queued or being sent)."""
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status.in_(("queued", "sending")))
    )


def retry(message_id: int, now: datetime, actor_id: int | None) -> OutboxMessage:
    """Queue a failed message again, with a fresh set of attempts (the caller commits)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise UserError("That message no longer exists.")
    if message.status != "failed":
        raise UserError(f"Only a failed message can be sent again; this one is {message.status}.")
    record_audit(
        "outbox_retry",
        f"Queued the email “{message.subject}” to {message.recipient} again "
        f"after {message.attempts} failed attempt(s)",
        target_type="outbox",
        target_id=message.id,
        now=now,
        actor_id=actor_id,
        data={"attempts": message.attempts, "last_error": message.last_error},
    )
    message.status = "queued"
    message.attempts = 0
    message.next_attempt_at = None
    return message


# --- internals ------------------------------------------------------------------------------


def _load(ids: Sequence[int]) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .options(selectinload(OutboxMessage.case))
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
    )
    return list(db.session.scalars(query))


def _opted_out_contacts(messages: Sequence[OutboxMessage]) -> set[int]:
    contact_ids = {m.contact_id for m in messages if m.contact_id is not None}
    if not contact_ids:
        return set()
    query = select(Contact.id).where(Contact.id.in_(contact_ids), Contact.opted_out.is_(True))
    return set(db.session.scalars(query))


def _release(messages: Sequence[OutboxMessage], worker: str) -> int:
    ids = [m.id for m in messages]
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == "sending",
            OutboxMessage.claimed_by == worker,
        )
        .values(status="queued")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    for message in messages:
        db.session.expire(message)  # changed in SQL above; reload if ever read again
    return result.rowcount


def _deliver_one(
    courier: _Courier,
    message: OutboxMessage,
    now: datetime,
    summary: SendSummary,
    max_attempts: int,
    backoff: timedelta,
) -> None:
    message.attempts = (message.attempts or 0) + 1
    try:
        courier.deliver(_mail_for(message, now))
    except Exception as error:  # any failure is recorded on the row and retried
        reason = _describe(error)
        if message.attempts >= max_attempts or _permanent(error):
            _give_up(message, now, reason)
            summary.failed += 1
        else:
            message.status = "queued"
            message.last_error = reason
            message.next_attempt_at = now + backoff_after(message.attempts, backoff)
            summary.retrying += 1
        return
    message.status = "sent"
    message.sent_at = now
    message.next_attempt_at = None
    summary.sent += 1
    if message.case is not None:
        record_event(
            message.case,
            "email_sent",
            f"Email sent to {message.recipient}: {message.subject}",
            now=now,
            data={"outbox_id": message.id, "kind": message.kind, "recipient": message.recipient},
        )


def _give_up(message: OutboxMessage, now: datetime, reason: str) -> None:
    message.status = "failed"
    message.last_error = reason
    message.next_attempt_at = None
    if message.case is not None:
        record_event(
            message.case,
            "email_failed",
            f"Email to {message.recipient} not delivered: {message.subject}",
            now=now,
            data={
                "outbox_id": message.id,
                "kind": message.kind,
                "recipient": message.recipient,
                "error": reason,
            },
        )


def _mail_for(message: OutboxMessage, now: datetime) -> Message:
    body_text, body_html = bodies_to_send(message, now)
    mail = Message(
        subject=message.subject,
        recipients=[message.recipient],
        reply_to=message.reply_to or None,
        body=body_text,
        html=body_html or None,
    )
    # Flask-Mail adds its own random Message-ID; ours is stable across resends.
    mail.msgId = message_id_for(message.key)
    return mail


def _describe(error: Exception) -> str:
    text = str(error) or error.__class__.__name__
    if not text.startswith(error.__class__.__name__):
        text = f"{error.__class__.__name__}: {text}"
    return text[:ERROR_LIMIT]


def _permanent(error: Exception) -> bool:
    """Errors that another try cannot fix (the server said no for good: 5xx)."""
    if isinstance(error, BadHeaderError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600
    # Connection, sign-in and sender problems are the server's or our configuration's:
    # they affect every message and are worth retrying once fixed.
    return False


class _TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout, so a hung server cannot hold a claim."""

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        factory = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        timeout = current_app.config.get("MAIL_TIMEOUT", SMTP_TIMEOUT_SECONDS)
        host = factory(state.server, state.port, timeout=timeout)
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


class _Courier:
    """One SMTP connection for a batch, reopened after a failure."""

    def __init__(self) -> None:
        self.connection: _TimedConnection | None = None
        # Once the server cannot be reached, the rest of the batch fails the same way at once
        # instead of waiting for one timeout per message.
        self.unreachable: Exception | None = None

    def deliver(self, message: Message) -> None:
        if self.unreachable is not None:
            raise self.unreachable
        if self.connection is None:
            connection = _TimedConnection(current_app.extensions["mail"])
            try:
                connection.__enter__()
            except (smtplib.SMTPException, OSError) as error:
                self.unreachable = error
                raise
            self.connection = connection
        try:
            self.connection.send(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self._drop()
            raise

    def close(self) -> None:
        if self.connection is not None and self.connection.host is not None:
            try:
                self.connection.host.quit()
            except (smtplib.SMTPException, OSError):
                self._drop()
        self.connection = None

    def _drop(self) -> None:
        if self.connection is not None and self.connection.host is not None:
            with contextlib.suppress(OSError):
                self.connection.host.close()
        self.connection = None
