"""Reading the programme team's small POST forms (plain HTML forms; CSRF is checked by
CSRFProtect before the view runs)."""

from __future__ import annotations

from collections.abc import Mapping

from app.extensions import db
from app.models import User
from app.operations.errors import UserError
from app.operations.text import parse_count

MAX_REASON = 1000


def version_from(form: Mapping[str, str]) -> int:
    version = parse_count(form.get("version") or "", minimum=0)
    if version is None:
        raise UserError("The form was incomplete (no case version). Reload the page and try again.")
    return version


def rep_from(form: Mapping[str, str]) -> User | None:
    """The chosen user, or None for 'no rep'. An unknown id is the user's error."""
    raw = (form.get("rep_id") or "").strip()
    if raw in ("", "none"):
        return None
    user_id = parse_count(raw)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise UserError("Choose a rep from the list.")
    return user


def reason_from(form: Mapping[str, str]) -> str:
    reason = (form.get("reason") or "").strip()
    if not reason:
        raise UserError("Give a reason for closing the case.")
    if len(reason) > MAX_REASON:
        raise UserError(f"Keep the reason under {MAX_REASON} characters.")
    return reason
