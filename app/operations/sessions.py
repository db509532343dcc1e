"""Server-side sessions: each sign-in gets a random token, stored hashed, that sign-out revokes."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import Select, bindparam, select, update

from app.extensions import db
from app.models import User, UserSession
from app.operations.rows import rowcount

log = logging.getLogger(__name__)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(user: User, *, remember: bool, now: datetime) -> str:
    """A new session for `user`; returns its token (only its hash is stored)."""
    config = current_app.config
    lifetime = (
        timedelta(seconds=int(config["REMEMBER_COOKIE_DURATION"]))
        if remember
        else timedelta(hours=int(config["SESSION_HOURS"]))
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=token_hash(token),
            remember=remember,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    user.session_token = token
    log.info("session started for user %s (remember=%s)", user.id, remember)
    return token


@cache
def live_session_user() -> Select:
    """A select of the user `user_id` if `token_hash` is one of their unrevoked sessions
    unexpired at `now` (bound parameters: live_session_params). The web's user loader runs it
    on every signed-in request, so it is built once (building it cost about as much as the
    rest of the request's work on a cached page)."""
    return (
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == bindparam("user_id"),
            UserSession.token_hash == bindparam("token_hash"),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > bindparam("now"),
        )
    )


def live_session_params(user_id: int, token: str, *, now: datetime) -> dict[str, object]:
    return {"user_id": user_id, "token_hash": token_hash(token), "now": now}


def live_session(user_id: int, token: str, *, now: datetime) -> UserSession | None:
    """The unrevoked, unexpired session of `user_id` with this token, else None."""
    return db.session.scalar(
        select(UserSession).where(
            UserSession.token_hash == token_hash(token),
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
        )
    )


def end_session(token: str, *, now: datetime) -> None:
    """Revoke one session (sign-out): its cookies stop working, wherever they were copied."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def end_all_sessions(user: User, *, now: datetime) -> int:
    """Revoke every session of `user` (sign out everywhere); returns how many."""
    ended = rowcount(
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    )
    log.info("all %s sessions of user %s ended", ended, user.id)
    return ended
