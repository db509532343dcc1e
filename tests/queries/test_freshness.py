"""The page cache (app/queries/freshness.py): with it on, the dashboard and the case list show
the same as without it, and a change made through an operation shows at once."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.operations.assignment import assign_case
from app.queries import freshness
from app.queries.case_filters import CaseFilters
from app.queries.case_list import list_page
from tests.factories import make_user
from tests.queries.test_dashboard_queries import build_programme
from tests.web.test_dashboard import login_as

UNASSIGNED = re.compile(r'<a href="([^"]*unassigned=1[^"]*)" data-cases="(\d+)">')


@pytest.fixture
def app_config() -> dict:
    return {"PAGE_CACHE_SECONDS": 600}


@pytest.fixture(autouse=True)
def fresh_cache(freeze_clock, now):
    freeze_clock(now)
    freshness.clear()
    yield
    freshness.clear()


def unassigned_on_dashboard(client) -> int:
    page = client.get("/dashboard").get_data(as_text=True)
    counts = {int(n) for href, n in UNASSIGNED.findall(page) if "status" not in href}
    assert len(counts) == 1, counts
    return counts.pop()


def test_an_assignment_shows_at_once_on_the_cached_dashboard(app, client, now):
    programme = build_programme(now)
    pat = make_user("programme", name="Pat Two")
    db.session.commit()
    login_as(client, pat)
    before = unassigned_on_dashboard(client)
    assert unassigned_on_dashboard(client) == before  # a second request: from the cache
    unassigned = next(c for c in programme.cases.values() if c.rep_id is None and c.is_open)
    assign_case(unassigned, programme.alice, actor=pat, now=now)
    db.session.commit()
    assert unassigned_on_dashboard(client) == before - 1


def test_cached_case_list_pages_match_the_uncached_ones(app, now):
    build_programme(now)
    for filters in (CaseFilters(), CaseFilters(status="all"), CaseFilters(sort="area")):
        app.config["PAGE_CACHE_SECONDS"] = 0
        plain = [list_page(filters, now, page, per_page=2) for page in (1, 2, 3, 9)]
        app.config["PAGE_CACHE_SECONDS"] = 600
        cached = [list_page(filters, now, page, per_page=2) for page in (1, 2, 3, 9)]
        again = [list_page(filters, now, page, per_page=2) for page in (1, 2, 3, 9)]
        assert cached == plain == again
        assert plain[0][1] > 2  # more than one page, so paging is exercised


def test_a_new_event_gives_a_new_data_version(app, now):
    programme = build_programme(now)
    before = freshness.data_version()
    case = next(c for c in programme.cases.values() if c.rep_id is None and c.is_open)
    assign_case(case, programme.bob, actor=None, now=now)
    db.session.commit()
    assert freshness.data_version() != before
