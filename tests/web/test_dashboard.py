"""The dashboard page: every number links to a case list of exactly that many cases."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from app.extensions import db
from tests.factories import add_snapshot, make_area, make_user
from tests.queries.test_dashboard_queries import build_programme
from tests.querycount import count_queries
from tests.web.conftest import login_as as _login_as


def login_as(client, user) -> None:
    """tests/web/conftest.py login_as, with the session identifier made from the test client's
    own User-Agent (the conftest's differs, and "strong" session protection then signs out)."""
    from flask_login.utils import _create_identifier

    _login_as(client, user)
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess["_id"] = identifier


@pytest.fixture(autouse=True)
def frozen(freeze_clock, now):
    """The dashboard and the case list both see `now` as the time (the app's clock)."""
    freeze_clock(now)


LINK = re.compile(r'<a href="([^"]*)" data-cases="(\d+)">')
CASE_COUNT = re.compile(r'id="case-count"[^>]*>\s*<strong>([\d,]+)</strong>')


def links(page: str) -> list[tuple[str, int]]:
    return [(html.unescape(href), int(n)) for href, n in LINK.findall(page)]


def listed_count(client, url: str, now) -> int:
    """How many cases the programme case list shows at `url` (its own count line)."""
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.get_data(as_text=True)
    match = CASE_COUNT.search(page)
    assert match, f"no case count on {url}"
    assert "were not understood" not in page, url
    return int(match.group(1).replace(",", ""))


def test_every_dashboard_number_lists_that_many_cases(app, client, now):
    build_programme(now)
    login_as(client, make_user("programme"))
    page = client.get("/dashboard").get_data(as_text=True)
    found = links(page)
    assert len(found) > 40
    assert all(urlsplit(href).path == "/cases" for href, _ in found)
    assert sum(1 for _, n in found if n > 0) >= 20  # not a page of zeros
    for href, count in found:
        assert listed_count(client, href, now) == count, href


def test_dashboard_shows_the_hand_worked_figures(app, client, now):
    programme = build_programme(now)
    login_as(client, make_user("programme"))
    page = client.get("/dashboard").get_data(as_text=True)
    counts = {frozenset(parse_qsl(urlsplit(href).query)): n for href, n in links(page)}

    def count(**args) -> int:
        return counts[frozenset((k, str(v)) for k, v in args.items())]

    assert count(unassigned=1) == 1
    assert count(stale=1) == 1
    assert count() == 6
    assert count(status="all", cohort=2025, reached="contacted") == 2
    assert count(rep_id=programme.alice.id, overdue=1) == 1
    assert count(status="all", opened_from="2026-10-26") == 1
    assert "2 actions in" in page  # Alice: two overdue actions, in one case
    assert "391 days" in page  # median days from opening to return
    assert page.index("Alice Rep") < page.index("Bob Rep")  # most overdue actions first


def test_dashboard_query_count_is_constant_and_small(app, client, now):
    build_programme(now)
    login_as(client, make_user("programme"))
    client.get("/dashboard")
    db.session.commit()  # both measurements start from a fresh session state
    with count_queries() as small:
        assert client.get("/dashboard").status_code == 200
    for i in range(8):
        rep = make_user("rep", region="East")
        add_snapshot(make_area(rep=rep), 5, 3, year=2018 + i % 4, now=now)
    db.session.commit()
    with count_queries() as large:
        page = client.get("/dashboard").get_data(as_text=True)
    assert "East" in page
    assert small.count == large.count <= 20


def test_a_rep_gets_404_on_the_dashboard(app, client):
    rep = make_user("rep")
    db.session.commit()
    login_as(client, rep)
    assert client.get("/dashboard").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(app, client):
    response = client.get("/dashboard")
    assert response.status_code in (302, 401)
    if response.status_code == 302:
        assert "/dashboard" not in urlsplit(response.location).path


def test_dashboard_page_has_no_inline_style_or_script(app, client, now):
    build_programme(now)
    login_as(client, make_user("programme"))
    page = client.get("/dashboard").get_data(as_text=True)
    # Scripts only from files of our own (the character count), never inline.
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/character-count.js" defer>']
    assert "style=" not in page
    assert page.count("<h1") == 1
    assert page.count("<table") == page.count("<caption")
