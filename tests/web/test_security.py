"""Security headers, CSRF, and error pages that help the user and never show a traceback."""

from __future__ import annotations

import re

import pytest
from flask import abort

from app.extensions import db
from app.models import User
from app.operations.errors import UserError
from tests.factories import make_user
from tests.web.conftest import login_as, post_form
from tests.web.test_auth import IsolatedClient


@pytest.fixture
def app_config() -> dict:
    # As in production: an unhandled error becomes the 500 page instead of reaching pytest.
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


def csp_directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split()[0]: " ".join(d.split()[1:]) for d in policy.split(";") if d.strip()}


@pytest.mark.parametrize("path", ["/sign-in", "/no-such-page"])
def test_every_page_has_the_security_headers(client, path):
    response = client.get(path)
    csp = csp_directives(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data:"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_pages_are_not_cached_but_static_files_may_be(client):
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"
    css = client.get("/static/app.css")
    assert css.status_code == 200
    assert css.headers.get("Cache-Control") != "no-store"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"<(?:link|script)[^>]+(?:href|src)=\"(?:https?:)?//", re.I), "off-site asset"),
]


def assert_csp_clean(html: str) -> None:
    for pattern, what in INLINE:
        match = pattern.search(html)
        assert match is None, f"{what} would be blocked by the CSP: {match.group(0)!r}"


def test_bootstrap_css_is_served_from_this_site(client):
    html = client.get("/sign-in").get_data(as_text=True)
    hrefs = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert any("bootstrap" in h for h in hrefs)
    for href in hrefs:
        assert href.startswith("/"), href
        assert client.get(href).status_code == 200


def test_my_pages_have_nothing_the_csp_blocks(client, app):
    admin = make_user("programme", admin=True)
    other = make_user("rep")
    db.session.commit()
    assert_csp_clean(client.get("/sign-in").get_data(as_text=True))
    login_as(client, admin)
    for path in (
        "/account",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{other.id}",
        f"/admin/users/{other.id}/deactivate",
        "/no-such-page",
    ):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert_csp_clean(response.get_data(as_text=True))


def test_post_without_csrf_token_gets_the_form_expired_page(client):
    response = client.post("/sign-in", data={"email": "a@example.org", "password": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form has expired" in html
    assert 'href="/"' in html


def test_post_with_a_forged_csrf_token_is_refused(client):
    response = client.post("/sign-in", data={"csrf_token": "forged", "email": "a@example.org"})
    assert response.status_code == 400


def test_404_page_is_friendly(client):
    response = client.get("/no-such-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in html
    assert 'href="/"' in html


def test_405_page_keeps_the_allow_header(client):
    response = client.get("/sign-out")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "isn&#39;t available here" in response.get_data(as_text=True)


def _add_route(app, rule, view):
    view.access = "public"
    app.add_url_rule(rule, view.__name__, view, methods=["GET"])


def test_403_page(app, client):
    def forbidden():
        abort(403)

    _add_route(app, "/test-403", forbidden)
    response = client.get("/test-403")
    assert response.status_code == 403
    assert "You can&#39;t do that" in response.get_data(as_text=True)


def test_429_page_outside_sign_in(app, client):
    def limited():
        abort(429)

    _add_route(app, "/test-429", limited)
    response = client.get("/test-429")
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)


def test_user_error_that_escapes_a_view_is_shown_as_its_message(app, client):
    def fails():
        raise UserError("That area code does not exist.")

    _add_route(app, "/test-user-error", fails)
    response = client.get("/test-user-error")
    assert response.status_code == 400
    assert "That area code does not exist." in response.get_data(as_text=True)


def test_500_page_has_no_traceback_and_rolls_back_the_session(app, client):
    user = make_user("rep", email="taken@example.org", name="Sam Signed-In")
    db.session.commit()
    login_as(client, user)

    def crashes():
        # A failed flush leaves the session unusable until it is rolled back; the error page
        # then loads the signed-in user (base.html shows their name), which needs the database.
        db.session.add(User(email="taken@example.org", name="Dup", role="rep"))
        db.session.flush()

    _add_route(app, "/test-500", crashes)
    response = client.get("/test-500")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, something went wrong on our side" in html
    assert "Sam Signed-In" in html  # rendered after the rollback, with the user loaded
    assert "Traceback" not in html and "IntegrityError" not in html
    assert db.session.query(User).filter_by(name="Dup").count() == 0


def test_sign_in_form_posts_only_to_this_site(client):
    html = client.get("/sign-in").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/sign-in"', html)
    response = post_form(client, "/sign-in?next=https://evil.example/", {})
    assert "evil" not in response.get_data(as_text=True)


def test_reloading_a_failed_forms_address_goes_to_its_page_not_a_405(client):
    from tests.factories import make_area, make_user
    from tests.web.test_case_page import login_as, open_case

    rep = make_user("rep")
    case = open_case(rep)
    make_area("ZZ9", rep=rep)
    login_as(client, rep)
    response = client.get(f"/cases/{case.id}/notes")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cases/{case.id}"
    action = client.get(f"/cases/{case.id}/actions/1/complete")
    assert action.status_code == 303 and action.headers["Location"] == f"/cases/{case.id}"
    assert client.get("/sign-out").status_code == 405  # nothing above it but the home page
