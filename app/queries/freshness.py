"""A per-process cache for what a page computes over the whole programme (the dashboard's
figures, the order of the case list), that no recorded change outlives.

An entry's key includes the data version: the newest id of each table a change writes to
(every operation writes its case event or audit entry in the same transaction as the change;
imports add snapshots; new cases, actions and users add rows), read in one query of
primary-key lookups. Any recorded change therefore gives a new key, and the next request (the
changer's or anyone's) computes afresh. What depends on the clock alone (stale cases, the
date windows) is at most PAGE_CACHE_SECONDS old; the London date is part of every key."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any, TypeVar

from flask import current_app, has_request_context, request
from sqlalchemy import Select, func, select

from app.extensions import db
from app.models import Action, AuditEntry, Case, CaseEvent, Snapshot, User

T = TypeVar("T")
VERSIONED = (CaseEvent, AuditEntry, Snapshot, Case, Action, User)
_MEMO = "app.data_version"
ENTRIES_PER_NAME = 16  # e.g. the 16 most recent filter choices of the case list

_entries: dict[str, OrderedDict[Hashable, tuple[float, object]]] = {}
_lock = threading.Lock()


def enabled() -> bool:
    """PAGE_CACHE_SECONDS = 0 turns the cache off (the tests' default: they write rows
    directly, without the events that move the version; tests/queries/test_freshness.py
    turns it on)."""
    return float(current_app.config.get("PAGE_CACHE_SECONDS", 0) or 0) > 0


def data_version() -> tuple:
    """The newest id of each table in VERSIONED: one query, an index lookup per table. Read
    once per GET request (the page cache and a page's cached figures share it); a request
    that may write reads it afresh each time."""
    memo = has_request_context() and request.method == "GET"
    if memo and _MEMO in request.environ:
        return request.environ[_MEMO]
    version = tuple(db.session.execute(_version_query()).one())
    if memo:
        request.environ[_MEMO] = version
    return version


def scalar_reading_version(
    query: Select, params: dict[str, Any], options: dict[str, Any] | None = None
) -> Any:
    """db.session.scalar(query, params) for a select of one entity, with the statement's
    execution `options`. On a GET request that has not read the data version yet, the same
    statement reads it too, and it is remembered for the request. The user loader runs this
    on every signed-in page, so a page served from the page cache costs one query, not two.
    """
    options = options or {}
    wanted = enabled() and has_request_context() and request.method == "GET"
    if not wanted or _MEMO in request.environ:
        return db.session.scalar(query, params, execution_options=options)
    row = db.session.execute(_reading_version(query), params, execution_options=options).first()
    if row is None:
        return None
    request.environ[_MEMO] = tuple(row[1:])
    return row[0]


@lru_cache(maxsize=4)
def _reading_version(query: Select) -> Select:
    return query.add_columns(*_version_columns())


@lru_cache(maxsize=1)
def _version_columns() -> tuple:
    return tuple(select(func.max(model.id)).scalar_subquery() for model in VERSIONED)


@lru_cache(maxsize=1)
def _version_query() -> Select:
    """Built once: constructing it cost about as much as running it."""
    return select(*_version_columns())


def cached(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), or its value for the same (name, key, data version) made less than
    PAGE_CACHE_SECONDS ago in this process."""
    if not enabled():
        return compute()
    seconds = float(current_app.config["PAGE_CACHE_SECONDS"])
    full_key = (current_app.config["SQLALCHEMY_DATABASE_URI"], data_version(), key)
    now = time.monotonic()
    with _lock:
        entries = _entries.setdefault(name, OrderedDict())
        hit = entries.get(full_key)
        if hit is not None and hit[0] > now:
            entries.move_to_end(full_key)
            return hit[1]  # type: ignore[return-value]
    value = compute()
    with _lock:
        entries[full_key] = (now + seconds, value)
        entries.move_to_end(full_key)
        while len(entries) > ENTRIES_PER_NAME:
            entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
