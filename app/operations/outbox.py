"""The outbox sender: claim due mail, deliver it over SMTP through Flask-Mail, retry with backoff.

Delivery is at-least-once and, in practice, exactly once: a message is claimed in its own
committed transaction (PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent senders never share a
row), then each message is sent and its outcome committed on its own. A sender that dies leaves
its claimed rows in 'sending'; once their claim is older than the lease a later run takes them
again, so only the message in flight at the crash can be delivered twice."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import smtplib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from flask_mail import BadHeaderError, Connection
from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Action, Case, CaseEvent, Contact, OutboxMessage, SchedulerLease
from app.operations.audit import record_audit
from app.operations.casework import record_event
from app.operations.contacts import mark_bouncing
from app.operations.errors import UserError
from app.operations.job_runs import record_run
from app.operations.mail_cancel import KEPT_AFTER_CASE_ENDS, REP_KINDS, paused_reason
from app.operations.mail_message import Envelope, MailWriter
from app.operations.optout import optout_serializer, unsubscribe_headers
from app.operations.partnership_links import link_serializer, with_personal_link
from app.operations.rows import rowcount, table_of
from app.operations.text import without_controls
from app.operations.tokens import BulkSigner
from app.operations.users import bodies_to_send
from app.rules.pause import is_paused
from app.rules.vocabulary import (
    PARTNERSHIP_REMINDER_KINDS,
    ActionStatus,
    CaseStatus,
    EventKind,
    JobName,
    OutboxStatus,
)

log = logging.getLogger(__name__)

MESSAGE_ID_DOMAIN = "partnership-followup"
DEFAULT_BACKOFF = timedelta(minutes=1)  # then 2, 4, 8 … minutes
MAX_BACKOFF = timedelta(minutes=15)
# A message the server keeps refusing for its own state (down, 4xx, blanket 5xx) is given up
# only after this long; until then a temporary failure never uses up a message.
DEFAULT_GIVE_UP = timedelta(hours=72)
# The sender-wide backoff after a temporary failure lives in the lease table under this name:
# holder is the count of consecutive failed runs, expires_at the moment the sender may try again.
BACKOFF_ROW = "outbox_backoff"
# A claim older than this is taken to belong to a dead sender and is taken again.
DEFAULT_LEASE = timedelta(minutes=2)
SMTP_TIMEOUT_SECONDS = 10
ERROR_LIMIT = 2000


@dataclass
class SendSummary:
    """What one `send_due` call did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0  # failed this time, queued again for later
    failed: int = 0  # gave up: status 'failed'
    released: int = 0  # claimed but not tried (time budget or server failure), queued again
    cancelled: int = 0  # its cause was gone by the time it was to be sent
    skipped: str | None = None  # why nothing was tried, e.g. no MAIL_SERVER
    error: str | None = None  # the mail server's temporary failure that stopped the run
    retry_after: datetime | None = None  # the sender-wide backoff set after `error`
    smtp_error: str | None = None  # the last delivery error of the run, temporary or not

    def line(self) -> str:
        if self.skipped:
            return f"Nothing sent: {self.skipped}."
        text = f"Sent {self.sent}, failed {self.failed}, will retry {self.retrying}."
        if self.error:
            text += f" The mail server failed: {self.error}"
            if self.retry_after is not None:
                text += f" (next try after {self.retry_after:%Y-%m-%d %H:%M} UTC)"
            text += "."
        if self.cancelled:
            text += f" Cancelled {self.cancelled} whose cause was gone."
        return text

    @property
    def stalled(self) -> bool:
        """Nothing was delivered because of a failure: the mail server's (now or in an earlier
        run the sender still backs off from) or every message's own."""
        failing = self.error is not None or self.retry_after is not None or self.failed > 0
        return self.sent == 0 and failing

    def add(self, other: SendSummary) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.released += other.released
        self.cancelled += other.cancelled
        self.skipped = self.skipped or other.skipped
        self.error = other.error or self.error
        self.retry_after = other.retry_after or self.retry_after
        self.smtp_error = other.smtp_error or self.smtp_error


def message_id_for(key: str) -> str:
    """A Message-ID derived from the reminder key, so a resend carries the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def mail_configured() -> bool:
    """With no MAIL_SERVER (the embedded default) mail stays in the outbox."""
    return bool(current_app.config.get("MAIL_SERVER"))


def backoff_after(attempts: int, base: timedelta = DEFAULT_BACKOFF) -> timedelta:
    """Wait before the next try after `attempts` failed ones: base, 2×base, 4×base … capped."""
    return min(base * (2 ** min(max(attempts - 1, 0), 20)), MAX_BACKOFF)


def sender_backoff() -> SchedulerLease | None:
    """The sender-wide backoff row, if a temporary failure set one."""
    return db.session.get(SchedulerLease, BACKOFF_ROW)


def _back_off(now: datetime, base: timedelta, error: str) -> datetime:
    row = sender_backoff()
    failures = (int(row.holder) if row is not None and row.holder.isdigit() else 0) + 1
    until = now + backoff_after(failures, base)
    if row is None:
        row = SchedulerLease(name=BACKOFF_ROW, holder="0", expires_at=until)
        db.session.add(row)
    row.holder, row.expires_at, row.updated_at = str(failures), until, now
    log.warning(
        "Outbox: mail server failed (%d run(s) in a row), sender backs off until %s: %s",
        failures,
        until.isoformat(),
        error,
    )
    return until


def _clear_backoff() -> None:
    db.session.execute(
        delete(SchedulerLease)
        .where(SchedulerLease.name == BACKOFF_ROW)
        .execution_options(synchronize_session=False)
    )


def due_clause(now: datetime, lease: timedelta = DEFAULT_LEASE):
    """Queued mail whose time has come, or claims abandoned by a dead sender."""
    return or_(
        and_(
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.not_before <= now,
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        ),
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - lease),
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
        .values(status=OutboxStatus.SENDING, claimed_at=now, claimed_by=worker)
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
    backoff: timedelta = DEFAULT_BACKOFF,
    lease: timedelta = DEFAULT_LEASE,
    give_up: timedelta = DEFAULT_GIVE_UP,
    deadline: float | None = None,
) -> SendSummary:
    """Deliver one batch of due mail; each outcome is committed on its own.

    The first temporary failure (server down, 4xx, a refusal of everything) stops the batch:
    the untried rest is released without an attempt counted and the whole sender backs off.
    The batch also stops, releasing what it has not tried, at half the claim lease or at
    `deadline` (time.monotonic()), whichever comes first. The run is recorded in job_runs."""
    if not mail_configured():
        return SendSummary(skipped="no MAIL_SERVER is configured: mail stays in the outbox")
    summary = _send_batch(now, worker, batch, backoff, lease, give_up, deadline)
    record_run(JobName.SEND, now, error=summary.smtp_error)
    db.session.commit()
    return summary


def _send_batch(
    now: datetime,
    worker: str,
    batch: int,
    backoff: timedelta,
    lease: timedelta,
    give_up: timedelta,
    deadline: float | None,
) -> SendSummary:
    held = sender_backoff()
    if held is not None and held.expires_at > now:
        db.session.commit()
        return SendSummary(
            skipped=f"the mail server failed; the sender waits until "
            f"{held.expires_at:%Y-%m-%d %H:%M} UTC",
            retry_after=held.expires_at,
        )
    ids = claim_due(now, worker=worker, batch=batch, lease=lease)
    summary = SendSummary(claimed=len(ids))
    if not ids:
        return summary
    messages = _load(ids)
    contacts = _contacts(messages)
    closed_actions = _closed_actions(messages)
    # Stop well inside the lease so no other sender takes our claims while we still hold them.
    own_deadline = time.monotonic() + lease.total_seconds() / 2
    deadline = own_deadline if deadline is None else min(deadline, own_deadline)
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    courier = _Courier()
    try:
        for position, message in enumerate(messages):
            if time.monotonic() > deadline:
                summary.released = _release(messages[position:], worker)
                break
            contact = contacts.get(message.contact_id or 0)  # ids start at 1
            gone = _cause_gone(message, closed_actions, now) or _address_gone(contact)
            if contact is not None and contact.opted_out:
                _give_up(message, now, "Not sent: the contact has opted out of email.")
                summary.failed += 1
            elif gone:
                # Changed after the mail was queued: the same check as at the source.
                message.status = OutboxStatus.CANCELLED
                message.cancelled_reason = gone
                message.cancelled_at = now
                summary.cancelled += 1
            elif not _deliver_one(courier, message, now, summary, give_up):
                summary.retry_after = _back_off(now, backoff, summary.error or "")
                db.session.commit()
                summary.released = _release(messages[position + 1 :], worker)
                break
            db.session.commit()
        if summary.sent:
            _clear_backoff()
            db.session.commit()
    finally:
        courier.close()
        session.expire_on_commit = expire_on_commit
    return summary


def options_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """send_due's retry settings from the app config (OUTBOX_* keys), defaults otherwise."""
    return {
        "give_up": timedelta(hours=float(config.get("OUTBOX_GIVE_UP_HOURS", 72))),
        "backoff": timedelta(
            seconds=int(config.get("OUTBOX_BACKOFF_SECONDS", DEFAULT_BACKOFF.total_seconds()))
        ),
        "lease": timedelta(
            seconds=int(config.get("OUTBOX_LEASE_SECONDS", DEFAULT_LEASE.total_seconds()))
        ),
    }


def send_all_due(
    now: datetime,
    *,
    worker: str,
    batch: int = 100,
    max_batches: int = 1000,
    budget: timedelta | None = None,
    **options,
) -> SendSummary:
    """Send batches until nothing is due (failures wait for their backoff, so this ends).

    With a `budget` the run stops within it (the scheduler's send job: inside its lease),
    giving back what it has not tried. Retry settings not given come from the app config
    (see `options_from_config`)."""
    options = {**options_from_config(current_app.config), **options}
    deadline = None if budget is None else time.monotonic() + budget.total_seconds()
    total = SendSummary()
    for _ in range(max_batches):
        summary = send_due(now, worker=worker, batch=batch, deadline=deadline, **options)
        total.add(summary)
        if summary.skipped or summary.claimed == 0 or summary.released or summary.error:
            break
    return total


def count_queued() -> int:
    """Mail still waiting (queued or being sent)."""
    count = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.SENDING)))
    )
    return count or 0


def retry(message_id: int, now: datetime, actor_id: int | None) -> OutboxMessage:
    """Queue a failed message again, with a fresh set of attempts (the caller commits)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise UserError("That message no longer exists.")
    if message.status != OutboxStatus.FAILED:
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
    message.status = OutboxStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = None
    return message


# --- internals ------------------------------------------------------------------------------


def _load(ids: Sequence[int]) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .options(selectinload(OutboxMessage.case).joinedload(Case.rep))
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
    )
    return list(db.session.scalars(query))


def _contacts(messages: Sequence[OutboxMessage]) -> dict[int, Contact]:
    """The contacts these messages go to, by id (one query).

    They stay in the session: a bounce marked during the batch changes the same objects, so
    the messages after it see it."""
    contact_ids = {m.contact_id for m in messages if m.contact_id is not None}
    if not contact_ids:
        return {}
    return {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))}


def _address_gone(contact: Contact | None) -> str | None:
    if contact is not None and contact.bouncing_at is not None:
        return f"the address {contact.email} bounces"
    return None


def _action_id(key: str) -> int | None:
    head, _, rest = key.partition(":")
    number = rest.partition(":")[0]
    return int(number) if head == "action" and number.isdigit() else None


def _closed_actions(messages: Sequence[OutboxMessage]) -> dict[int, str]:
    """Of the actions these messages remind about, those no longer open: id -> status."""
    ids = {a for a in (_action_id(m.key) for m in messages) if a is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        select(Action.id, Action.status).where(
            Action.id.in_(ids), Action.status != ActionStatus.OPEN
        )
    )
    return dict(rows.all())


def _cause_gone(
    message: OutboxMessage, closed_actions: dict[int, str], now: datetime
) -> str | None:
    """Why this message no longer applies (None: it still does)."""
    case = message.case
    if (
        case is not None
        and case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
        and message.kind not in KEPT_AFTER_CASE_ENDS
    ):
        return f"the case is {case.status}"
    if message.kind in PARTNERSHIP_REMINDER_KINDS:
        until = case.reminders_paused_until if case is not None else None
        if until is not None and is_paused(until, now):
            return paused_reason(until)
        if message.contact_id is None:
            return "the contact was removed"
    action_id = _action_id(message.key)
    if action_id in closed_actions:
        return (
            "the action is done"
            if closed_actions[action_id] == ActionStatus.DONE
            else ("the action was dropped")
        )
    if case is not None and message.kind in REP_KINDS:
        rep_email = case.rep.email if case.rep is not None else None
        if message.recipient != rep_email:
            return "the case has another rep now"
    return None


def _release(messages: Sequence[OutboxMessage], worker: str) -> int:
    ids = [m.id for m in messages]
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == worker,
        )
        .values(status=OutboxStatus.QUEUED)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    for message in messages:
        db.session.expire(message)  # changed in SQL above; reload if ever read again
    return rowcount(result)


def _deliver_one(
    courier: _Courier,
    message: OutboxMessage,
    now: datetime,
    summary: SendSummary,
    give_up: timedelta,
) -> bool:
    """Try one message; False when the server failed for its own state (stop the batch)."""
    attempts = (message.attempts or 0) + 1
    try:
        courier.deliver(*_mail_for(courier, message, now))
    except Exception as error:  # any failure is recorded on the row
        message.attempts = attempts
        reason = _describe(error)
        summary.smtp_error = reason
        if _permanent(error):
            log.warning("Outbox: message %s refused for good: %s", message.id, reason)
            _give_up(message, now, reason)
            bounce = _refused_address(error)
            if bounce is not None and message.contact_id is not None:
                mark_bouncing(message.contact_id, bounce, now, outbox_id=message.id)
            summary.failed += 1
            return True
        summary.error = reason
        if now - message.not_before >= give_up:
            _give_up(message, now, f"Gave up after {give_up} of trying: {reason}")
            summary.failed += 1
            return False
        message.status = OutboxStatus.QUEUED
        message.last_error = reason
        message.next_attempt_at = None  # the sender-wide backoff decides when to try again
        summary.retrying += 1
        return False
    _mark_sent(message, attempts, now)
    log.info("Outbox: message %s (%s) sent", message.id, message.kind)
    summary.sent += 1
    return True


_OUTBOX = table_of(OutboxMessage)
_EVENTS = table_of(CaseEvent)


def _mark_sent(message: OutboxMessage, attempts: int, now: datetime) -> None:
    """The sent outcome and its timeline event as plain statements (the common path of every
    send, where the ORM's unit of work cost more than the SMTP exchange); on PostgreSQL one
    statement, the event written from the UPDATE's RETURNING, so a send costs one round trip
    to the database before its commit. The loaded message shows the new values without being
    marked changed."""
    values = {
        "status": OutboxStatus.SENT,
        "sent_at": now,
        "attempts": attempts,
        "next_attempt_at": None,
        "last_error": None,
    }
    for name, value in values.items():
        set_committed_value(message, name, value)
    if message.case is None:
        db.session.execute(update(_OUTBOX).where(_OUTBOX.c.id == message.id).values(**values))
        return
    # What record_event writes; a sent email is not casework (PASSIVE_EVENT_KINDS), so the
    # case's activity time stays as it is.
    event = {
        "case_id": message.case_id,
        "kind": EventKind.EMAIL_SENT,
        "message": f"Email sent to {message.recipient}: {message.subject}",
        "created_at": now,
        "data": {"outbox_id": message.id, "kind": message.kind, "recipient": message.recipient},
    }
    if db.session.get_bind().dialect.name == "postgresql":
        parameters = {f"sent_{name}": value for name, value in values.items()}
        parameters.update({f"event_{name}": value for name, value in event.items()})
        db.session.execute(_sent_with_event(), {"outbox_id": message.id, **parameters})
        return
    db.session.execute(update(_OUTBOX).where(_OUTBOX.c.id == message.id).values(**values))
    db.session.execute(insert(_EVENTS).values(actor_id=None, **event))


@lru_cache(maxsize=1)
def _sent_with_event():
    """PostgreSQL: `WITH sent AS (UPDATE outbox ... RETURNING id) INSERT INTO case_events
    SELECT ... FROM sent`, made once. Its parameters are named sent_<column> and
    event_<column>: a parameter named like an outbox column would be SET by the UPDATE."""
    sent = (
        update(_OUTBOX)
        .where(_OUTBOX.c.id == bindparam("outbox_id"))
        .values({name: bindparam(f"sent_{name}", type_=_OUTBOX.c[name].type) for name in _SENT})
        .returning(_OUTBOX.c.id)
        .cte("sent")
    )
    names = ("case_id", "kind", "message", "created_at", "data")
    columns = [_EVENTS.c[name] for name in names]
    row = select(*(bindparam(f"event_{c.name}", type_=c.type) for c in columns)).select_from(sent)
    return insert(_EVENTS).from_select(columns, row).add_cte(sent)


_SENT = ("status", "sent_at", "attempts", "next_attempt_at", "last_error")


def _give_up(message: OutboxMessage, now: datetime, reason: str) -> None:
    message.status = OutboxStatus.FAILED
    message.failed_at = now
    message.last_error = reason
    message.next_attempt_at = None
    if message.case is not None:
        record_event(
            message.case,
            EventKind.EMAIL_FAILED,
            f"Email to {message.recipient} not delivered: {message.subject}",
            now=now,
            data={
                "outbox_id": message.id,
                "kind": message.kind,
                "recipient": message.recipient,
                "error": reason,
            },
        )


def _mail_for(courier: _Courier, message: OutboxMessage, now: datetime) -> tuple[Envelope, bytes]:
    body_text, body_html = bodies_to_send(message, now)
    body_text, body_html = with_personal_link(
        message.contact_id, body_text, body_html, courier.link_tokens
    )
    # Subjects carry area and people's names: a line break there would forge headers.
    return courier.writer.write(
        recipient=without_controls(message.recipient),
        subject=without_controls(message.subject),
        reply_to=without_controls(message.reply_to) if message.reply_to else None,
        # Stable across resends (derived from the key), so a resend carries the same id.
        message_id=message_id_for(message.key),
        text=body_text,
        html=body_html or None,
        extra_headers=(
            unsubscribe_headers(message.contact_id, courier.optout_tokens)  # RFC 8058
            if message.contact_id is not None
            else None
        ),
    )


def _describe(error: Exception) -> str:
    text = str(error) or error.__class__.__name__
    if not text.startswith(error.__class__.__name__):
        text = f"{error.__class__.__name__}: {text}"
    return text[:ERROR_LIMIT]


_ENHANCED = re.compile(rb"^\s*([245])\.(\d{1,3})\.\d{1,3}")


def _about_the_message(code: int, text: bytes | str) -> bool:
    """A 5xx reply that is about this recipient or message, not the server's state.

    RFC 3463 classes 5.1 (address), 5.2 (mailbox) and 5.6 (content) are the message's own;
    others (5.7 policy, 5.3 system, 5.4 network, 5.5 protocol) or a bare 554 are the relay
    refusing everything, which must not use up the message. Without an enhanced code the
    mailbox replies 550, 551 and 553 count as the recipient's."""
    if not 500 <= code < 600:
        return False
    raw = text.encode() if isinstance(text, str) else (text or b"")
    match = _ENHANCED.match(raw)
    if match:
        return match.group(2) in (b"1", b"2", b"6")
    return code in (550, 551, 553)


def _refused_address(error: Exception) -> str | None:
    """The server's reply when a permanent refusal is of the recipient's address (a bounce).

    Called for permanent errors only: a refused RCPT TO, or a DATA reply of class 5.1
    (address) from a server that refuses recipients only after the message."""
    replies: list[tuple[int, bytes | str]]
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = list(error.recipients.values())
    elif isinstance(error, smtplib.SMTPDataError):
        raw = error.smtp_error if isinstance(error.smtp_error, bytes) else b""
        match = _ENHANCED.match(raw)
        if not (match and match.group(2) == b"1"):
            return None
        replies = [(error.smtp_code, error.smtp_error)]
    else:
        return None
    return "; ".join(f"{code} {_reply_text(text)}" for code, text in replies)


def _reply_text(text: bytes | str) -> str:
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return without_controls(raw)


def _permanent(error: Exception) -> bool:
    """Errors that are the message's own and that another try cannot fix."""
    if isinstance(error, BadHeaderError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(_about_the_message(code, text) for code, text in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return _about_the_message(error.smtp_code, error.smtp_error)
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
    """One SMTP connection for a batch, reopened after a failure; it writes each mail too."""

    def __init__(self) -> None:
        state = current_app.extensions["mail"]
        self.state = state
        self.writer = MailWriter(state.default_sender)
        # Each mail's personal link is a fresh token, made as it is sent; only the signer is
        # made once a batch.
        self.link_tokens = BulkSigner(link_serializer())
        self.optout_tokens = BulkSigner(optout_serializer())
        self.connection: _TimedConnection | None = None
        # Once the server cannot be reached, the rest of the batch fails the same way at once
        # instead of waiting for one timeout per message.
        self.unreachable: Exception | None = None

    def deliver(self, envelope: Envelope, content: bytes) -> None:
        if self.unreachable is not None:
            raise self.unreachable
        if self.connection is None:
            connection = _TimedConnection(self.state)
            try:
                connection.__enter__()
            except (smtplib.SMTPException, OSError) as error:
                self.unreachable = error
                raise
            self.connection = connection
        host = self.connection.host
        if host is None:  # MAIL_SUPPRESS_SEND (Flask-Mail's testing switch): nothing goes out
            return
        try:
            host.sendmail(envelope.sender, list(envelope.recipients), content)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            raise  # the server answered (a refused recipient): the connection is still good
        except OSError:  # disconnected, timed out, reset (SMTPException is an OSError too)
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
