"""Areas: the list (all for the programme team, own for a rep), an area's page and history
CSV, 404s for other reps' areas, and query counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest

from app.extensions import db
from tests.factories import add_snapshot, make_area, make_user
from tests.querycount import count_queries
from tests.web.conftest import login_as


def sign_in(client, user):
    login_as(client, user)
    return client


def listed_areas(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/areas/([^"]+)">', html)


@pytest.fixture
def world(app):
    boss = make_user("programme")
    rep_a = make_user("rep", name="Ann A")
    rep_b = make_user("rep", name="Ben B")
    a1 = make_area("BL001", rep=rep_a, contacts=2)
    a2 = make_area("BL002", rep=rep_b)
    a3 = make_area("BL003")
    add_snapshot(a1, 9, 6, year=2020)
    add_snapshot(a1, 6, 4, year=2021)
    add_snapshot(a1, 8, 5, on=date(2022, 3, 1))  # an in-year update
    add_snapshot(a2, 12, 8, year=2021)
    add_snapshot(a3, 5, 2, year=2021)
    a1.contacts[1].opted_out = True
    a1.contacts[1].opted_out_at = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    db.session.commit()
    return {"boss": boss, "rep_a": rep_a, "rep_b": rep_b, "a1": a1, "a2": a2, "a3": a3}


def test_programme_sees_every_area_with_its_evaluation(client, world):
    html = sign_in(client, world["boss"]).get("/areas").get_data(as_text=True)
    assert listed_areas(html) == ["BL001", "BL002", "BL003"]
    assert "Ann A" in html and "No rep" in html
    assert "fewer than the required number of members" in html  # BL003
    assert "1 Mar 2022" in html  # BL001's current evaluation is the update's


def test_rep_sees_only_their_areas(client, world):
    html = sign_in(client, world["rep_a"]).get("/areas").get_data(as_text=True)
    assert listed_areas(html) == ["BL001"]
    assert "My areas" in html
    assert 'id="a-rep"' not in html  # no rep filter for reps


@pytest.mark.parametrize(
    "query,expected",
    [
        ("flag=under_criteria", ["BL003"]),
        ("flag=at_threshold", ["BL001"]),
        ("flag=within", ["BL002"]),
        ("rep=none", ["BL003"]),
        ("q=bl002", ["BL002"]),
        ("sort=members", ["BL003", "BL001", "BL002"]),
        ("sort=flag", ["BL003", "BL001", "BL002"]),
    ],
)
def test_filters_and_sorts(client, world, query, expected):
    html = sign_in(client, world["boss"]).get(f"/areas?{query}").get_data(as_text=True)
    assert listed_areas(html) == expected


def test_rep_filter_by_id(client, world):
    html = sign_in(client, world["boss"]).get(f"/areas?rep={world['rep_b'].id}")
    assert listed_areas(html.get_data(as_text=True)) == ["BL002"]


def test_bad_filter_is_reported_and_ignored(client, world):
    html = sign_in(client, world["boss"]).get("/areas?flag=purple").get_data(as_text=True)
    assert 'href="#a-flag"' in html and "purple" in html
    assert listed_areas(html) == ["BL001", "BL002", "BL003"]


def test_no_matches_says_how_to_clear(client, world):
    html = sign_in(client, world["boss"]).get("/areas?q=nowhere").get_data(as_text=True)
    assert "No areas match these filters" in html and "Clear the filters" in html


def test_area_page_shows_history_cases_and_contacts(client, world):
    html = sign_in(client, world["boss"]).get("/areas/BL001").get_data(as_text=True)
    history = html[html.index('id="history-heading"') : html.index('id="contacts-heading"')]
    years = re.findall(r'<th scope="row">(\d{4})</th>', history)
    assert years == ["2022", "2021", "2020"]
    assert history.count("In-year update") == 1 and history.count("Annual review") == 2
    assert "30 Sep 2020" in history and "1 Mar 2022" in history
    cases = html[html.index('id="cases-heading"') : html.index('id="history-heading"')]
    assert "Case #" in cases and "Returned" in cases and "1 Mar 2022" in cases
    contacts = html[html.index('id="contacts-heading"') :]
    assert "Opted out" in contacts and "1 Jul 2026" in contacts  # London date of 23:30 UTC
    assert "Receives reminders" in contacts
    assert 'action="/areas/BL001/rep"' in html  # the programme team can change the rep


def test_rep_sees_their_area_without_the_rep_form(client, world):
    html = sign_in(client, world["rep_a"]).get("/areas/BL001").get_data(as_text=True)
    assert "BL001" in html and 'action="/areas/BL001/rep"' not in html


def test_rep_b_gets_404_on_rep_a_area(client, world):
    sign_in(client, world["rep_b"])
    assert client.get("/areas/BL001").status_code == 404
    assert client.get("/areas/BL001/history.csv").status_code == 404
    assert client.get("/areas/NOPE").status_code == 404


def test_rep_opens_the_area_of_a_case_assigned_from_the_queue(client, world):
    from sqlalchemy import select

    from app import clock
    from app.models import Case
    from app.operations.assignment import assign_case

    orphan = db.session.scalar(select(Case).where(Case.area_id == world["a3"].id))
    assign_case(
        orphan,
        world["rep_b"],
        actor=world["boss"],
        now=clock.now(),
        expected_version=orphan.version,
    )
    db.session.commit()
    assert world["a3"].rep_id is None  # the area itself keeps no rep
    sign_in(client, world["rep_b"])
    html = client.get("/areas/BL003").get_data(as_text=True)
    assert world["a3"].name in html
    assert "BL003" in listed_areas(client.get("/areas").get_data(as_text=True))
    sign_in(client, world["rep_a"])
    assert client.get("/areas/BL003").status_code == 404


def test_history_csv_lists_every_snapshot_oldest_first(client, world):
    resp = sign_in(client, world["rep_a"]).get("/areas/BL001/history.csv")
    assert resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["effective_on"], r["kind"], r["members"]) for r in rows] == [
        ("2020-09-30", "annual review", "9"),
        ("2021-09-30", "annual review", "6"),
        ("2022-03-01", "in-year update", "8"),
    ]
    assert rows[1]["flag"] == "under_criteria" and rows[1]["reasons"] == "too_few_members"


def _grow(n: int, reps) -> None:
    for i in range(n):
        area = make_area(rep=reps[i % len(reps)] if i % 3 else None, contacts=2)
        add_snapshot(area, 6 + i % 4, 4, year=2020)
        add_snapshot(area, 7 + i % 4, 5, year=2021)


def test_areas_list_query_count_does_not_grow(client, app):
    boss = make_user("programme")
    reps = [make_user("rep") for _ in range(3)]
    counts = []
    for n in (2, 28):
        _grow(n, reps)
        db.session.commit()
        sign_in(client, boss)
        with count_queries() as counter:
            assert client.get("/areas?sort=rep").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 20


def test_area_page_query_count_does_not_grow(client, app):
    boss = make_user("programme")
    reps = [make_user("rep") for _ in range(3)]
    area = make_area("BL900", rep=reps[0], contacts=1)
    counts = []
    for years in ((2015, 2016), tuple(range(2017, 2030))):
        for year in years:
            add_snapshot(area, 6 + year % 4, 4 + year % 2, year=year)
        area.contacts.append(area.contacts[0].__class__(name="X", email=f"x{year}@example.org"))
        db.session.commit()
        sign_in(client, boss)
        with count_queries() as counter:
            assert client.get("/areas/BL900").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 20


@pytest.mark.parametrize("app_config", [{"PAGE_CACHE_SECONDS": 600}])
def test_with_the_cache_on_the_total_is_kept_and_follows_a_new_area(client, world, app_config, now):
    from app.operations.imports import AreaRow, store_areas
    from app.queries import freshness

    freshness.clear()
    sign_in(client, world["boss"])
    assert "<strong>3</strong> areas" in client.get("/areas").get_data(as_text=True)
    with count_queries() as kept:
        client.get("/areas")
    freshness.clear()
    with count_queries() as counted:
        client.get("/areas")
    assert kept.count == counted.count - 1  # the total came from the cache
    store_areas([AreaRow("BL004", "Fourth Area", None)], now=now)
    db.session.commit()  # an audited new area: the data version moves
    html = client.get("/areas").get_data(as_text=True)
    assert "<strong>4</strong> areas" in html and "BL004" in listed_areas(html)
