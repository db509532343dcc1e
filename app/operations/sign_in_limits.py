"""Sign-in attempt limits, counted atomically before a password or code is checked.

Counts live in the database (one upsert per key and window, so every worker and machine sees
the same number) or, when RATELIMIT_STORAGE_URI names one, in Redis through `limits`."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import delete

from app.extensions import db
from app.models import SignInCount

if TYPE_CHECKING:  # `limits` (about 40 ms with its storages) is imported at the first sign-in
    from limits import RateLimitItem
    from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)

# Rows older than this are deleted as new attempts come in (longer than any sensible window).
KEEP_SECONDS = 2 * 24 * 3600


@dataclass(frozen=True)
class Limit:
    name: str
    key: str
    item: RateLimitItem


def limits_for(email: str, address: str) -> list[Limit]:
    """The three limits an attempt counts against, most specific first."""
    from limits import parse

    email = email.strip().lower()
    config = current_app.config
    return [
        Limit(
            "account+address", f"ea:{email}\0{address}", parse(config["SIGN_IN_LIMIT_PER_EMAIL"])
        ),
        Limit("address", f"a:{address}", parse(config["SIGN_IN_LIMIT_PER_ADDRESS"])),
        Limit("account", f"e:{email}", parse(config["SIGN_IN_LIMIT_PER_ACCOUNT"])),
    ]


def take_attempt(email: str, address: str, *, now: datetime) -> bool:
    """Count one attempt against each limit in turn; False (stop counting) at the first full one.

    Stopping there keeps one address from using up the account's limit from all addresses."""
    for limit in limits_for(email, address):
        if not _hit(limit, now):
            log.warning("sign-in limit %s reached for address %s", limit.name, address)
            return False
    return True


def take_request(name: str, key: str, limit: str, *, now: datetime) -> bool:
    """Count one request for `key` against `limit` (Flask-Limiter syntax, e.g. "30 per 15
    minutes") in the same storage as sign-in attempts; False when the limit is reached."""
    from limits import parse

    allowed = _hit(Limit(name, f"{name}:{key}", parse(limit)), now)
    if not allowed:
        log.warning("request limit %s reached", name)
    return allowed


def forget_attempts(email: str, address: str, *, now: datetime) -> None:
    """After a successful sign-in, the account+address count starts again."""
    limit = limits_for(email, address)[0]
    uri = current_app.config.get("RATELIMIT_STORAGE_URI")
    if uri:
        _redis_limiter(uri).clear(limit.item, _hashed(limit.key))
        return
    db.session.execute(delete(SignInCount).where(SignInCount.key == _hashed(limit.key)))
    db.session.commit()


def _hashed(key: str) -> str:
    # Fixed length, and no user-typed bytes (NULs, very long emails) in the storage.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _hit(limit: Limit, now: datetime) -> bool:
    uri = current_app.config.get("RATELIMIT_STORAGE_URI")
    if uri:
        return _redis_limiter(uri).hit(limit.item, _hashed(limit.key))
    return _database_hit(_hashed(limit.key), limit.item, now) <= limit.item.amount


def _database_hit(key: str, item: RateLimitItem, now: datetime) -> int:
    """Add one to this key's count in the current window and return the new count, in one
    statement (INSERT … ON CONFLICT DO UPDATE … RETURNING), committed before the caller goes on."""
    db.session.commit()  # start a fresh transaction: on SQLite a stale reader can't upgrade
    seconds = item.get_expiry()
    window = int(now.timestamp()) // seconds * seconds
    dialect = db.engine.dialect.name
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = insert(SignInCount).values(key=key, window_start=window, count=1)
    statement = values.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": SignInCount.count + 1}
    ).returning(SignInCount.count)
    count = db.session.execute(statement).scalar_one()
    db.session.execute(
        delete(SignInCount).where(SignInCount.window_start < int(now.timestamp()) - KEEP_SECONDS)
    )
    db.session.commit()
    return count


_limiters: dict[str, FixedWindowRateLimiter] = {}


def _redis_limiter(uri: str) -> FixedWindowRateLimiter:
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    if uri not in _limiters:
        _limiters[uri] = FixedWindowRateLimiter(storage_from_string(uri))
    return _limiters[uri]
