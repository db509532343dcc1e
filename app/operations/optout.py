"""Opting a partnership contact out of automatic mail, from the link in every email.

The link carries a signed token holding only the contact id, signed with the app's secret and
a salt of its own, so a token made for anything else (a set-password link) is refused."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.extensions import db
from app.models import Contact
from app.operations.contacts import record_contact_change
from app.operations.errors import UserError
from app.operations.mail_cancel import cancel_for_contact
from app.operations.tokens import Dumps
from app.rules.vocabulary import EventKind

OPTOUT_SALT = "contact-optout"
BAD_LINK = (
    "This opt-out link is not valid. Check that you copied the whole link from the email, "
    "or reply to your rep to stop the reminders."
)


def optout_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=OPTOUT_SALT)


def make_optout_token(contact_id: int, serializer: Dumps | None = None) -> str:
    return str((serializer or optout_serializer()).dumps({"c": contact_id}))


def optout_link(contact_id: int, serializer: Dumps | None = None) -> str:
    """The absolute opt-out link (from BASE_URL) for a contact (pass a serializer to reuse)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/optout/{make_optout_token(contact_id, serializer)}"


def one_click_link(contact_id: int, serializer: Dumps | None = None) -> str:
    """The RFC 8058 one-click URL: a POST opts out at once, a GET shows the confirmation."""
    return f"{optout_link(contact_id, serializer)}/one-click"


def unsubscribe_headers(contact_id: int, serializer: Dumps | None = None) -> dict[str, str]:
    """List-Unsubscribe (the one-click URL and a mailto) and List-Unsubscribe-Post for a mail
    to this contact, so mail clients offer their own unsubscribe button (pass a serializer,
    e.g. a BulkSigner, to reuse)."""
    serializer = serializer or optout_serializer()
    token = make_optout_token(contact_id, serializer)
    address = current_app.config["MAIL_UNSUBSCRIBE_ADDRESS"]
    mailto = f"mailto:{address}?subject={quote(f'unsubscribe {token}')}"
    return {
        "List-Unsubscribe": f"<{one_click_link(contact_id, serializer)}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def contact_for_token(token: str) -> Contact:
    """The contact an opt-out token is for; UserError when the token is not ours or unknown."""
    try:
        payload = optout_serializer().loads(token)
    except BadSignature:
        raise UserError(BAD_LINK) from None
    contact_id = payload.get("c") if isinstance(payload, dict) else None
    contact = db.session.get(Contact, contact_id) if isinstance(contact_id, int) else None
    if contact is None:
        raise UserError(BAD_LINK)
    return contact


def opt_out(token: str, now: datetime) -> Contact:
    """Stop automatic mail to the token's contact (idempotent); the caller commits."""
    contact = contact_for_token(token)
    if contact.opted_out:
        return contact
    contact.opted_out = True
    cancelled = cancel_for_contact(contact.id, "the contact opted out of email", now)
    contact.opted_out_at = now
    record_contact_change(
        contact,
        EventKind.CONTACT_OPTED_OUT,
        f"{contact.name} <{contact.email}> of {contact.area.name} opted out of automatic mail",
        now=now,
        data={"email": contact.email, "cancelled": cancelled},
    )
    return contact
