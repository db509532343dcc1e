"""A partnership contact's address and consent: bouncing, a changed email, opting back in.

An address the mail server refused for good is marked bouncing in the sender's transaction:
queued mail to it is cancelled, the sweep and the sender send it nothing more, and the rep
gets one notice. Changing the email clears the mark. Opting back in needs a note of the
contact's consent. Each change is audited and, when the area has an open case, on its
timeline."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app, render_template
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Area, Case, Contact, OutboxMessage, User
from app.operations.audit import record_audit
from app.operations.casework import record_event
from app.operations.errors import UserError
from app.operations.mail_cancel import cancel_for_contact
from app.operations.users import normalise_email
from app.rules.vocabulary import OPEN_STATUSES, EventKind, OutboxStatus, ReminderKind

log = logging.getLogger(__name__)

REPLY_LIMIT = 500
MAX_CONSENT_NOTE = 2000


def _open_case(area_id: int) -> Case | None:
    return db.session.scalar(
        select(Case).where(Case.area_id == area_id, Case.status.in_(OPEN_STATUSES))
    )


def record_contact_change(
    contact: Contact,
    kind: EventKind,
    message: str,
    *,
    now: datetime,
    actor_id: int | None = None,
    data: dict | None = None,
) -> None:
    """The audit entry of a contact change and, if the area has an open case, its event."""
    data = {"area": contact.area.code, "contact_id": contact.id, **(data or {})}
    record_audit(
        kind, message, target_type="contact", target_id=contact.id, now=now, actor_id=actor_id,
        data=data,
    )  # fmt: skip
    case = _open_case(contact.area_id)
    if case is not None:
        record_event(case, kind, message, now=now, actor_id=actor_id, data=data)


def mark_bouncing(
    contact_id: int, reply: str, now: datetime, *, outbox_id: int | None = None
) -> bool:
    """Mark the contact's address bouncing after a permanent refusal (the caller commits).

    False when it already was: the rep has had their notice."""
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.bouncing_at is not None:
        return False
    contact.bouncing_at = now
    contact.bounce_reply = reply[:REPLY_LIMIT]
    cancelled = cancel_for_contact(contact.id, f"the address {contact.email} bounces", now)
    log.warning(
        "Contact %s (area %s) address %s bounces (outbox message %s, %d queued mail cancelled): %s",
        contact.id,
        contact.area.code,
        contact.email,
        outbox_id,
        cancelled,
        contact.bounce_reply,
    )
    record_contact_change(
        contact,
        EventKind.CONTACT_BOUNCING,
        f"Mail to {contact.name} <{contact.email}> is refused by their mail server: no more "
        "reminders go to this address until it is changed",
        now=now,
        data={"email": contact.email, "reply": contact.bounce_reply, "outbox_id": outbox_id},
    )
    _notify_rep(contact, now)
    return True


def _notify_rep(contact: Contact, now: datetime) -> None:
    """One notice per bounce: its key carries the moment the address was marked."""
    area: Area = contact.area
    rep: User | None = area.rep if area.rep is not None and area.rep.active else None
    recipient = rep.email if rep is not None else current_app.config["PROGRAMME_TEAM_EMAIL"]
    if not recipient:
        return
    base = current_app.config["BASE_URL"].rstrip("/")
    context = {
        "contact": contact,
        "area": area,
        "recipient_name": rep.name if rep is not None else "programme team",
        "area_url": f"{base}/areas/{area.code}/contacts/{contact.id}",
        "support_email": current_app.config["SUPPORT_EMAIL"],
    }
    kind = ReminderKind.BOUNCE_NOTICE
    db.session.add(
        OutboxMessage(
            key=f"bounce:{contact.id}:{now.isoformat()}",
            kind=kind,
            recipient=recipient,
            subject=f"Emails to {contact.name} of {area.name} ({area.code}) bounce"[:300],
            body_text=render_template(f"emails/{kind}.txt", **context),
            body_html=render_template(f"emails/{kind}.html", **context),
            not_before=now,
            created_at=now,
        )
    )


def change_email(contact: Contact, raw: str, *, actor: User, now: datetime) -> bool:
    """Give the contact a new address (clears bouncing); False when it is the same one."""
    email = normalise_email(raw)
    if email == contact.email.lower():
        return False
    taken = db.session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(
            Contact.area_id == contact.area_id,
            func.lower(Contact.email) == email,
            Contact.id != contact.id,
        )
    )
    if taken:
        raise UserError(f"Another contact of {contact.area.code} already has the address {email}.")
    old, was_bouncing = contact.email, contact.bouncing_at is not None
    contact.email = email
    contact.bouncing_at = None
    contact.bounce_reply = None
    # Mail still queued for the contact goes to the new address (its key would not be
    # queued again, so cancelling it would lose the reminder).
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id == contact.id, OutboxMessage.status == OutboxStatus.QUEUED)
        .values(recipient=email)
        .execution_options(synchronize_session=False)
    )
    record_contact_change(
        contact,
        EventKind.CONTACT_EMAIL_CHANGED,
        f"{contact.name}'s email changed from {old} to {email}"
        + (" (the old address bounced)" if was_bouncing else ""),
        now=now,
        actor_id=actor.id,
        data={"old": old, "new": email, "was_bouncing": was_bouncing},
    )
    return True


def opt_back_in(contact: Contact, note: str, *, actor: User, now: datetime) -> None:
    """Record that an opted-out contact asked for the reminders again (the caller commits)."""
    note = (note or "").strip()
    if not contact.opted_out:
        raise UserError(f"{contact.name} has not opted out: they already receive reminders.")
    if not note:
        raise UserError("Write how the contact agreed to receive the reminders again.")
    if len(note) > MAX_CONSENT_NOTE:
        raise UserError(f"Keep the note under {MAX_CONSENT_NOTE} characters.")
    contact.opted_out = False
    contact.opted_out_at = None
    record_contact_change(
        contact,
        EventKind.CONTACT_OPTED_IN,
        f"{contact.name} <{contact.email}> opted back in to reminder emails. Consent: {note}",
        now=now,
        actor_id=actor.id,
        data={"email": contact.email, "consent": note},
    )
