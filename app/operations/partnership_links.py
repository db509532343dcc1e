"""The personal link a partnership contact gets in every email: `BASE_URL/partnership/<token>`.

The token holds the contact id and the area id, signed with the app's secret and a salt of its
own (so an opt-out or set-password token is refused), with the time it was made. Each new mail
makes a new token, so the link's life (PARTNERSHIP_LINK_DAYS) starts again with every mail.
Revocation needs no token table: every use checks the live rows, so a contact who is removed
(their id is gone), who opted out, or whose area has no open case loses access at once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from app.extensions import db
from app.models import Area, Case, Contact
from app.operations.tokens import Dumps
from app.rules.vocabulary import OPEN_STATUSES

log = logging.getLogger(__name__)

LINK_SALT = "partnership-link"
# One message for every refused token: it must not tell a tampered token from an expired one
# or from one whose contact was removed, so nobody can probe which tokens exist.
REFUSED = (
    "This link is not valid any more. Links in our emails last a limited time. "
    "Use the link in the latest email from your Big Local rep, or reply to that email."
)


class LinkRefused(Exception):
    """The token is not ours, expired, or its contact no longer has access."""


@dataclass(frozen=True)
class LinkAccess:
    """What a valid link opens: its contact, their area, and the area's open case (or None:
    the page then says politely that there is nothing to answer and names the rep)."""

    contact: Contact
    area: Area
    case: Case | None


def link_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def make_link_token(contact: Contact, serializer: Dumps | None = None) -> str:
    return str((serializer or link_serializer()).dumps({"c": contact.id, "a": contact.area_id}))


def partnership_link(contact: Contact, serializer: Dumps | None = None) -> str:
    """The absolute personal link (from BASE_URL) for a contact; pass a serializer to reuse."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/partnership/{make_link_token(contact, serializer)}"


def _payload(token: str, now: datetime) -> tuple[int, int]:
    try:
        payload, signed_at = link_serializer().loads(token, return_timestamp=True)
    except BadSignature:
        raise LinkRefused("signature") from None
    days = current_app.config["PARTNERSHIP_LINK_DAYS"]
    if now - signed_at.astimezone(UTC) > timedelta(days=days):
        raise LinkRefused("expired")
    if not isinstance(payload, dict):
        raise LinkRefused("payload")
    contact_id, area_id = payload.get("c"), payload.get("a")
    if not (isinstance(contact_id, int) and isinstance(area_id, int)):
        raise LinkRefused("payload")
    return contact_id, area_id


def access_for_token(token: str, now: datetime) -> LinkAccess:
    """What the token opens at `now`; LinkRefused (with the reason, for the log only) when it
    is tampered, expired, for a removed or opted-out contact, or for another area."""
    contact_id, area_id = _payload(token, now)
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.area_id != area_id:
        raise LinkRefused("contact")
    if contact.opted_out:
        raise LinkRefused("opted out")
    case = db.session.scalar(
        select(Case).where(Case.area_id == area_id, Case.status.in_(OPEN_STATUSES))
    )
    return LinkAccess(contact=contact, area=contact.area, case=case)


# Stored in the outbox in place of the personal link, which is made only when the mail is
# sent: the Outbox pages show staff every mail, and a link there would let them answer as the
# contact; a link made at sending also starts its PARTNERSHIP_LINK_DAYS from the real mail.
LINK_PLACEHOLDER = "[your personal link, made when this email is sent]"
LINK_GONE = "(your personal link is not available any more: reply to this email)"


def with_personal_link(
    contact_id: int | None, body_text: str, body_html: str, serializer: Dumps | None = None
) -> tuple[str, str]:
    """The bodies with the contact's fresh personal link in place of LINK_PLACEHOLDER (pass a
    serializer, e.g. a BulkSigner, to reuse)."""
    if LINK_PLACEHOLDER not in body_text and LINK_PLACEHOLDER not in (body_html or ""):
        return body_text, body_html
    contact = db.session.get(Contact, contact_id) if contact_id is not None else None
    link = partnership_link(contact, serializer) if contact is not None else LINK_GONE
    return (
        body_text.replace(LINK_PLACEHOLDER, link),
        (body_html or "").replace(LINK_PLACEHOLDER, link),
    )
