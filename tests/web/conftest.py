"""Web test helpers: sign a user in without the form, and make CSRF tokens for POSTs."""

from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeTimedSerializer


def session_id_for(user) -> str:
    """Start a real server-side session for `user`; its Flask-Login id (what the cookie holds)."""
    from app import clock
    from app.extensions import db
    from app.operations.sessions import start_session

    db.session.flush()
    start_session(user, remember=False, now=clock.now())
    db.session.commit()  # requests may run in their own app context and database session
    return user.get_id()


def login_as(client, user) -> None:
    """Sign `user` in on this test client (a real Flask-Login session, no form)."""
    from flask_login.utils import _create_identifier

    with client.application.test_request_context(environ_base=dict(client.environ_base)):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess["_user_id"] = session_id_for(user)
        sess["_fresh"] = True
        sess["_id"] = identifier


def csrf_token(client) -> str:
    """A valid CSRF token for this client's session (what the forms carry)."""
    app = client.application
    with client.session_transaction() as sess:
        raw = sess.get("csrf_token")
        if raw is None:
            import hashlib
            import os

            raw = hashlib.sha1(os.urandom(64)).hexdigest()
            sess["csrf_token"] = raw
    serializer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    return serializer.dumps(raw)


def post_form(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with a valid CSRF token."""
    payload = dict(data or {})
    payload.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=payload, **kwargs)


def token_in(html: str) -> str | None:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1) if match else None


@pytest.fixture
def signed_in(client):
    """`signed_in(user)` signs the user in on `client` and returns the client."""

    def sign(user):
        login_as(client, user)
        return client

    return sign
