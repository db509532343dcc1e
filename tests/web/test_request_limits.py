"""Request size limit: an oversized body gets the 413 page without being read."""

from __future__ import annotations

import io

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app


@pytest.fixture
def app_config() -> dict:
    return {"MAX_CONTENT_LENGTH": 64 * 1024}


class Unreadable(io.RawIOBase):
    """A request body that fails the test if more than `allowed` bytes are read from it."""

    def __init__(self, allowed: int) -> None:
        self.allowed, self.taken = allowed, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.taken += len(buffer)
        assert self.taken <= self.allowed, f"the server read {self.taken} bytes of the body"
        buffer[:] = b"a" * len(buffer)
        return len(buffer)


def post_stream(app, body, **environ):
    """POST `body` (a stream read as the server would) to the sign-in page, anonymously."""
    builder = EnvironBuilder(
        path="/sign-in", method="POST", content_type="application/x-www-form-urlencoded"
    )
    wsgi_environ = {**builder.get_environ(), **environ, "wsgi.input": body}
    if "CONTENT_LENGTH" not in environ:
        wsgi_environ.pop("CONTENT_LENGTH", None)  # as a chunked request arrives
    chunks, status, _headers = run_wsgi_app(app, wsgi_environ, buffered=True)
    return int(status.split()[0]), b"".join(chunks).decode()


def test_default_limit_fits_a_web_import_of_150000_review_rows():
    from config import Config

    # About 60 bytes a row (bench/data.py writes 49): a 150,000-row file is about 9 MB.
    assert 150_000 * 60 < Config.MAX_CONTENT_LENGTH <= 64 * 1024 * 1024


def test_an_oversized_anonymous_post_gets_the_413_page_unread(app):
    body = Unreadable(allowed=0)
    code, html = post_stream(app, body, CONTENT_LENGTH=str(200 * 1024 * 1024))
    assert code == 413
    assert "The file is too large" in html
    assert "Go to the home page" in html  # the same page as the other errors
    assert body.taken == 0


def test_a_chunked_body_without_length_is_read_up_to_the_limit_then_refused(app):
    body = Unreadable(allowed=64 * 1024 + 64 * 1024)
    code, html = post_stream(
        app, body, **{"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}
    )
    assert code == 413
    assert "The file is too large" in html
    assert body.taken <= 128 * 1024


def test_a_body_under_the_limit_is_read(client):
    response = client.post("/sign-in", data={"email": "a@example.org", "password": "x" * 1000})
    assert response.status_code != 413
