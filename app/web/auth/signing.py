"""The last step of signing in, and the state kept between the password and the code.

Between the two steps nobody is signed in: the session holds only a signed note of who gave
the right password, when, and where to go next; it expires after TWO_FACTOR_STEP_MINUTES."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, session
from flask_login import login_user
from itsdangerous import BadData

from app import clock
from app.extensions import db
from app.models import User
from app.operations.sessions import start_session
from app.operations.sign_in_limits import forget_attempts
from app.operations.users import clocked_serializer, record_sign_in

PENDING_KEY = "two_factor_pending"
PENDING_SALT = "two-factor-pending"


@dataclass(frozen=True)
class PendingSignIn:
    user: User
    remember: bool
    next_url: str | None


def complete_sign_in(user: User, *, remember: bool, address: str) -> None:
    """Sign `user` in: a fresh session (nothing from before survives), a server-side session
    record, the sign-in time, and the account+address count started again."""
    now = clock.now()
    forget_attempts(user.email, address, now=now)
    session.clear()
    start_session(user, remember=remember, now=now)
    record_sign_in(user, now=now)
    db.session.commit()
    login_user(user, remember=remember)


def hold_for_code(user: User, *, remember: bool, next_url: str | None) -> None:
    """After a right password, when a code is still needed: note it in the session, signed."""
    session.clear()
    note = {"u": user.id, "v": user.session_version, "r": bool(remember), "n": next_url or ""}
    session[PENDING_KEY] = clocked_serializer(PENDING_SALT, clock.now()).dumps(note)


def pending_sign_in() -> PendingSignIn | None:
    """Who is between the password and the code, or None (no note, expired, or the account
    changed since: password, deactivation, two-factor turned off)."""
    raw = session.get(PENDING_KEY)
    if not isinstance(raw, str):
        return None
    max_age = int(current_app.config["TWO_FACTOR_STEP_MINUTES"]) * 60
    try:
        note = clocked_serializer(PENDING_SALT, clock.now()).loads(raw, max_age=max_age)
    except BadData:
        return None
    user = db.session.get(User, note.get("u")) if isinstance(note, dict) else None
    if user is None or not user.active or user.session_version != note.get("v"):
        return None
    if not user.two_factor_enabled:
        return None
    return PendingSignIn(user=user, remember=bool(note.get("r")), next_url=note.get("n") or None)


def forget_pending() -> None:
    session.pop(PENDING_KEY, None)
