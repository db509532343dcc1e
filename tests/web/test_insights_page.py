"""The insights page, its charts and exports: the same figures as programme_insights()."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.operations.snapshots import EntryInput, SnapshotInput, store_snapshots
from app.queries.insights import area_ids_for, programme_insights, returns_by_month
from app.web.insights.presentation import long_rows
from app.web.insights.workbook import SHEETS, xlsx_bytes
from tests.factories import make_area, make_user
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


def roster(prefix: str, numbers, residents: int, workers: int = 0) -> tuple[EntryInput, ...]:
    entries = [
        EntryInput(f"{prefix}{n}", f"Person {prefix}{n}", i < residents, "member")
        for i, n in enumerate(numbers)
    ]
    entries += [EntryInput(f"w-{prefix}{i}", "Worker", False, "worker") for i in range(workers)]
    return tuple(entries)


def review(code: str, year: int, entries) -> SnapshotInput:
    return SnapshotInput(code, "annual", year, date(year, 9, 30), entries)


@pytest.fixture
def programme(app, now):
    """Three areas, two reviews. By hand: members 23 (2020) and 25 (2021); new members 23 and
    4; under criteria 1 and 1; at threshold 1 and 1; 27 different people; 21 in both reviews."""
    alice = make_user("rep", name="Alice Rep", region="North")
    bob = make_user("rep", name="Bob Rep", region="South")
    make_area("N1", rep=alice)
    make_area("N2", rep=alice)
    make_area("S1", rep=bob)
    store_snapshots(
        [
            review("N1", 2020, roster("p", range(1, 9), 6)),  # 8: at threshold
            review("N1", 2021, roster("p", range(1, 11), 6)),  # 10: fine
            review("N2", 2020, roster("q", range(1, 7), 4)),  # 6: under criteria
            review("N2", 2021, roster("q", range(1, 9), 5)),  # 8: at threshold, returned
            review("S1", 2020, roster("s", range(1, 10), 5, workers=1)),  # 9: fine
            review("S1", 2021, roster("s", range(1, 8), 4, workers=1)),  # 7: under criteria
        ],
        now=now,
    )
    db.session.commit()
    return {"alice": alice, "bob": bob}


@pytest.fixture
def team(client):
    user = make_user("programme")
    db.session.commit()
    login_as(client, user)
    return client


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def table_rows(page: str, table_id: str) -> dict[str, list[str]]:
    """{row header: [cell texts]} of the table with this id."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S).group(0)
    rows = {}
    for header, cells in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', body, re.S):
        rows[header.strip()] = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", cells)]
    return rows


def test_page_shows_the_hand_worked_year_on_year_sentences(programme, team):
    page = text_of(team.get("/insights").get_data(as_text=True))
    assert "25 members in 2021, up from 23 in 2020." in page
    assert "4 new members in 2021, down from 23 in 2020." in page
    assert "1 area under criteria in 2021, the same as in 2020." in page
    assert "27 people have been partnership members since 2020" in page
    assert "21 members appeared in all two reviews." in page
    assert "1 case came back within criteria after follow-up." in page


def test_page_tables_agree_with_programme_insights(programme, team):
    insights = programme_insights()
    page = team.get("/insights").get_data(as_text=True)
    members = table_rows(page, "table-members")
    assert members == {str(y): [f"{n:,}"] for y, n in insights["members_by_year"].items()}
    new = table_rows(page, "table-new-members")
    assert new == {str(y): [f"{n:,}"] for y, n in insights["new_members_by_year"].items()}
    areas = table_rows(page, "table-areas")
    assert areas == {
        str(y): [
            str(insights["areas_under_criteria_by_year"][y]),
            str(insights["areas_at_threshold_by_year"][y]),
        ]
        for y in insights["review_years"]
    }
    returns = table_rows(page, "table-returns")
    assert returns == {"Sep 2021": ["1"]}
    assert returns_by_month() == [("2021-09", 1)]
    summary = table_rows(page, "table-summary")
    assert summary["Different people who have been partnership members"] == [
        str(insights["distinct_members_total"])
    ]
    assert summary["Different members per partnership, on average"] == ["9.0"]


def test_an_earlier_year_has_its_own_figures(programme, team):
    page = text_of(team.get("/insights?year=2020").get_data(as_text=True))
    assert "23 members in 2020." in page  # the first review: nothing to compare with
    assert "1 area at threshold (exactly eight members) in 2020." in page


def test_the_areas_of_a_rep(programme, team):
    alice = programme["alice"]
    page = text_of(team.get(f"/insights?rep_id={alice.id}").get_data(as_text=True))
    assert "for the 2 areas assigned to Alice Rep" in page
    assert "18 members in 2021, up from 14 in 2020." in page
    assert "0 areas under criteria in 2021, down from 1 in 2020." in page
    assert programme_insights(area_ids_for(rep_id=alice.id))["members_by_year"] == {
        2020: 14,
        2021: 18,
    }


def test_the_areas_of_a_region(programme, team):
    page = text_of(team.get("/insights?region=South").get_data(as_text=True))
    assert "7 members in 2021, down from 9 in 2020." in page
    assert "1 area under criteria in 2021, up from 0 in 2020." in page


def test_unknown_choices_are_named_in_an_error_summary_and_left_out(programme, team):
    response = team.get("/insights?rep_id=999&region=Atlantis&year=1990")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="#rep_id"' in page and 'href="#region"' in page and 'href="#year"' in page
    assert 'aria-describedby="rep_id-error"' in page
    assert "25 members in 2021, up from 23 in 2020." in text_of(page)  # all areas, latest year


def test_charts_are_svg_images_without_scripts(programme, team):
    alice = programme["alice"]
    page = team.get(f"/insights?rep_id={alice.id}").get_data(as_text=True)
    sources = [html.unescape(s) for s in re.findall(r'<img[^>]*src="([^"]+)"', page)]
    assert sources == [
        f"/insights/chart/{name}.svg?rep_id={alice.id}"
        for name in ("members", "new-members", "areas", "returns")
    ]
    for src in sources:
        response = team.get(src)
        svg = response.get_data(as_text=True)
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert svg.startswith("<svg") and "<script" not in svg
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    members_svg = team.get(sources[0]).get_data(as_text=True)
    assert ">18<" in members_svg and ">14<" in members_svg  # Alice's areas' members
    assert team.get("/insights/chart/pie.svg").status_code == 404


def test_page_has_no_inline_script_or_style_and_accessible_tables(programme, team):
    page = team.get("/insights").get_data(as_text=True)
    # Scripts only from files of our own (the character count), never inline.
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/character-count.js" defer>']
    assert "style=" not in page
    assert page.count("<h1") == 1
    assert page.count("<table") == page.count("<caption")
    for field in ("year", "rep_id", "region"):
        assert f'<label class="form-label" for="{field}">' in page


def test_csv_round_trips_and_agrees_with_programme_insights(programme, team):
    response = team.get(f"/insights.csv?rep_id={programme['alice'].id}")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["table", "key", "value"]
    ids = area_ids_for(rep_id=programme["alice"].id)
    expected = long_rows(programme_insights(ids), returns_by_month(ids))
    assert rows[1:] == [[t, k, str(v)] for t, k, v in expected]
    table = {(t, k): v for t, k, v in rows[1:]}
    assert table[("members_by_year", "2021")] == "18"
    assert table[("summary", "cases_returned_within_criteria")] == "1"


def test_xlsx_has_a_sheet_per_table_and_agrees_with_programme_insights(programme, team):
    response = team.get("/insights.xlsx")
    assert response.headers["Content-Disposition"] == 'attachment; filename="insights.xlsx"'
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == list(SHEETS)
    insights = programme_insights()
    members = [tuple(r) for r in wb["Members by year"].iter_rows(min_row=2, values_only=True)]
    assert members == sorted(insights["members_by_year"].items())
    areas = [tuple(r) for r in wb["Areas by year"].iter_rows(min_row=2, values_only=True)]
    assert areas == [
        (y, insights["areas_under_criteria_by_year"][y], insights["areas_at_threshold_by_year"][y])
        for y in insights["review_years"]
    ]
    returns = [tuple(r) for r in wb["Returns by month"].iter_rows(min_row=2, values_only=True)]
    assert returns == [("2021-09", 1)]
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Different people who have been partnership members"] == 27
    assert summary["Cases that returned within criteria"] == 1


def test_xlsx_text_cannot_run_as_a_formula(app):
    evil = "=cmd|' /C calc'!A0"
    wb = load_workbook(io.BytesIO(xlsx_bytes(programme_insights(), [("2021-09", 1)], areas=evil)))
    cells = {c.value: c for row in wb["Summary"].iter_rows() for c in row}
    assert "'" + evil in cells
    assert cells["'" + evil].data_type == "s"
    assert all(c.data_type != "f" for c in cells.values())


def test_insights_query_count_is_constant_and_small(programme, team, now):
    team.get("/insights")
    db.session.commit()
    with count_queries() as small:
        team.get("/insights")
    more = []
    for i in range(5):
        rep = make_user("rep", region="East")
        make_area(f"X{i}", rep=rep)
        more.append(review(f"X{i}", 2021, roster(f"x{i}-", range(6), 3)))
    store_snapshots(more, now=now)
    db.session.commit()
    with count_queries() as large:
        page = team.get("/insights").get_data(as_text=True)
    assert "55 members in 2021" in text_of(page)
    assert small.count == large.count <= 20


def test_a_rep_gets_404_on_insights_charts_and_exports(app, client):
    rep = make_user("rep")
    db.session.commit()
    login_as(client, rep)
    for url in ("/insights", "/insights/chart/members.svg", "/insights.csv", "/insights.xlsx"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("app_config", [{"PAGE_CACHE_SECONDS": 600}])
def test_with_the_cache_on_the_figures_are_computed_once_and_follow_a_new_review(
    programme, team, app_config, now
):
    from app.queries import freshness

    freshness.clear()
    first = team.get("/insights").get_data(as_text=True)
    assert "25 members in 2021, up from 23 in 2020." in text_of(first)
    with count_queries() as cached:
        again = team.get("/insights").get_data(as_text=True)
    with count_queries() as chart:
        svg = team.get("/insights/chart/members.svg")
    freshness.clear()
    with count_queries() as computed:
        team.get("/insights")
    assert again == first
    assert cached.count < computed.count  # the figures came from the cache
    # ...and the year picker's years too: a repeat view reads no snapshot at all.
    assert not [sql for sql in cached.statements if "snapshots.review_year" in sql]
    assert svg.status_code == 200 and chart.count < computed.count
    store_snapshots([review("N1", 2022, roster("p", range(1, 13), 7))], now=now)
    db.session.commit()  # a new review: the data version moves
    after = text_of(team.get("/insights").get_data(as_text=True))
    assert "12 members in 2022, down from 25 in 2021." in after
