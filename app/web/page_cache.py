"""A per-worker cache of rendered signed-in GET pages (My cases, the case page, the case list,
the dashboard, Due soon): a repeat of the same request serves the HTML made a moment ago
instead of querying and rendering again.

An entry's key is (database, full URL, the signed-in user's row as loaded, a digest of the
whole session, the data version, the London date):

- the session digest covers the Flask-Login id (user id, session version, server-side session
  token), the raw CSRF token the page's forms were signed from (so a cached form's token
  validates exactly as a fresh one: it is the same session's token, and WTF_CSRF_TIME_LIMIT
  is none; were a limit set, an entry lives at most a tenth of it), and the writes counter
  below;
- the user's row covers a changed name, role or admin flag;
- the data version (app/queries/freshness.py) moves with every recorded change, anyone's.

The user is loaded (and the server-side session checked) before the cache is asked, so a
signed-out or revoked session never reaches an entry. Nothing is served from the cache while
flashed messages are pending, and nothing is stored from a response that changed the session
(a new CSRF token, popped flashes, Flask-Login's bookkeeping: anything that sets a cookie) or
that is not a plain 200.

A change shows at once to the user who made it: every successful POST of a signed-in user
bumps `_writes` in their session, so their next page has a new key whichever worker serves
it, even for a change that moved no data version. Anyone else sees a recorded change at once
(the data version) and anything else (what moves with the clock alone, an outbox message's
delivery status) at most PAGE_CACHE_SECONDS (60 s) late. PAGE_CACHE_SECONDS = 0 turns this
off (the tests' default)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from functools import cache, wraps
from typing import Any

from flask import Flask, Response, current_app, request, session
from flask_login import current_user

from app import clock
from app.models import User
from app.queries import freshness
from app.rules.calendar import london_date

ENTRIES = 128  # per worker; a page is 20–100 kB of HTML at 10× (at most ~12 MB)
WRITES_KEY = "_writes"
FLASHES_KEY = "_flashes"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# key -> (stored at, as a timestamp of the app's clock; body; headers). An entry is used from
# its moment to PAGE_CACHE_SECONDS after it (a clock set back makes it unusable, not older).
_entries: OrderedDict[Hashable, tuple[float, bytes, list[tuple[str, str]]]] = OrderedDict()
_lock = threading.Lock()


@cache
def _user_columns() -> tuple[str, ...]:
    """Read at the first page, not at import: a mapper's attributes configure every mapper
    (~35 ms), which every `flask` command would otherwise pay for at start."""
    return tuple(column.key for column in User.__mapper__.column_attrs)


def cached_page(view: Callable) -> Callable:
    """Decorate a signed-in GET view (below @login_required's check, so it runs after it)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        if not _usable():
            return view(*args, **kwargs)
        moment = clock.now()
        key = _key(moment)
        now = moment.timestamp()
        with _lock:
            hit = _entries.get(key)
            if hit is not None and hit[0] <= now < hit[0] + _lifetime():
                _entries.move_to_end(key)
                return Response(hit[1], status=200, headers=hit[2])
        response = current_app.make_response(view(*args, **kwargs))
        if _storable(response):
            entry = (now, response.get_data(), _headers(response))
            with _lock:
                _entries[key] = entry
                _entries.move_to_end(key)
                while len(_entries) > ENTRIES:
                    _entries.popitem(last=False)
        return response

    return wrapped


def _usable() -> bool:
    return (
        request.method == "GET"
        and freshness.enabled()
        and current_user.is_authenticated
        and FLASHES_KEY not in session
    )


def _key(moment: datetime) -> Hashable:
    session_digest = hashlib.blake2b(
        repr(sorted(session.items())).encode("utf-8", "surrogatepass"), digest_size=16
    ).digest()
    user = current_user._get_current_object()
    return (
        current_app.config["SQLALCHEMY_DATABASE_URI"],
        request.full_path,
        tuple(getattr(user, name) for name in _user_columns()),
        session_digest,
        freshness.data_version(),
        london_date(moment),
    )


def _lifetime() -> float:
    seconds = float(current_app.config["PAGE_CACHE_SECONDS"])
    limit = current_app.config.get("WTF_CSRF_TIME_LIMIT")
    return min(seconds, float(limit) / 10) if limit else seconds


def _storable(response: Response) -> bool:
    return (
        response.status_code == 200
        and not session.modified
        and "Set-Cookie" not in response.headers
        and not response.is_streamed
    )


def _headers(response: Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]


def count_writes(response: Response) -> Response:
    """after_request: a signed-in user's successful POST (or other unsafe method) moves their
    session's writes counter, so their own next page is never an entry made before it."""
    if (
        request.method not in SAFE_METHODS
        and response.status_code < 400
        and freshness.enabled()
        and current_user.is_authenticated
    ):
        session[WRITES_KEY] = int(session.get(WRITES_KEY, 0)) + 1
    return response


def init_page_cache(app: Flask) -> None:
    app.after_request(count_writes)


def clear() -> None:
    with _lock:
        _entries.clear()
