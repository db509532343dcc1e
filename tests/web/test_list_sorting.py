"""Lists as people expect them (MOJ patterns): sortable column headers that sort on the server,
the chosen filters as removable tags, on the programme case list and the areas list."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from tests.factories import add_snapshot, make_area, make_user
from tests.querycount import count_queries
from tests.web.conftest import login_as

HEADER = re.compile(
    r'<th scope="col" aria-sort="(\w+)"><a class="sort-link" href="([^"]+)">([^<]+)<'
)
TAG = re.compile(
    r'<a class="filter-tag" href="([^"]+)"><span class="visually-hidden">'
    r"Remove this filter: </span>([^<]+)<"
)


def headers(page: str) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """Column label -> (aria-sort, the link's query arguments)."""
    return {
        label: (aria, parse_qs(urlsplit(html_lib.unescape(href)).query))
        for aria, href, label in HEADER.findall(page)
    }


def tags(page: str) -> dict[str, dict[str, list[str]]]:
    """Tag label -> the query arguments of its link."""
    return {
        html_lib.unescape(label): parse_qs(urlsplit(html_lib.unescape(href)).query)
        for href, label in TAG.findall(page)
    }


def case_codes(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/areas/([^"]+)">', page)


@pytest.fixture
def world(app):
    boss = make_user("programme", name="Pat Programme")
    zed = make_user("rep", name="Zed Zulu", region="North")
    amy = make_user("rep", name="Amy Alpha", region="South")
    for code, rep, members, residents, year in (
        ("BL002", zed, 6, 4, 2021),  # under criteria (too few)
        ("BL001", amy, 8, 5, 2022),  # at threshold
        ("BL004", None, 5, 2, 2020),  # under criteria, no rep
        ("BL003", amy, 7, 3, 2023),  # under criteria
    ):
        add_snapshot(make_area(code, rep=rep), members, residents, year=year)
    make_area("BL005")  # no figures, no case
    db.session.commit()
    return {"boss": boss, "zed": zed, "amy": amy}


@pytest.fixture
def boss_client(client, world):
    login_as(client, world["boss"])
    return client


@pytest.mark.parametrize(
    "sort,expected",
    [
        ("area", ["BL001", "BL002", "BL003", "BL004"]),
        ("-area", ["BL004", "BL003", "BL002", "BL001"]),
        ("rep", ["BL001", "BL003", "BL002", "BL004"]),  # Amy, Amy, Zed, then no rep
        ("-rep", ["BL002", "BL001", "BL003", "BL004"]),  # no rep last both ways
        ("members", ["BL004", "BL002", "BL003", "BL001"]),
        ("-members", ["BL001", "BL003", "BL002", "BL004"]),
        ("flag", ["BL002", "BL003", "BL004", "BL001"]),  # under criteria first, then by code
        ("-flag", ["BL001", "BL002", "BL003", "BL004"]),
        ("opened", ["BL004", "BL002", "BL001", "BL003"]),
        ("-opened", ["BL003", "BL001", "BL002", "BL004"]),
    ],
)
def test_case_list_sorts_by_each_column(boss_client, sort, expected):
    assert case_codes(boss_client.get(f"/cases?sort={sort}").get_data(as_text=True)) == expected


def test_case_headers_say_how_the_list_is_sorted_and_link_to_the_other_order(boss_client):
    page = boss_client.get("/cases?sort=rep&flag=under_criteria&page=2").get_data(as_text=True)
    found = headers(page)
    assert found["Rep"] == ("ascending", {"sort": ["-rep"], "flag": ["under_criteria"]})
    assert found["Area"] == ("none", {"sort": ["area"], "flag": ["under_criteria"]})
    assert {aria for label, (aria, _) in found.items() if label != "Rep"} == {"none"}
    page = boss_client.get("/cases?sort=-rep").get_data(as_text=True)
    assert headers(page)["Rep"] == ("descending", {"sort": ["rep"]})


def test_default_case_order_marks_no_column_and_unknown_sort_is_ignored(boss_client):
    default = boss_client.get("/cases").get_data(as_text=True)
    assert {aria for aria, _ in headers(default).values()} == {"none"}
    assert "in order: Most urgent first" in default
    resp = boss_client.get("/cases?sort=drop%20table")
    assert resp.status_code == 200
    assert case_codes(resp.get_data(as_text=True)) == case_codes(default)


def test_sort_is_kept_by_pages_and_by_the_filter_form(boss_client, monkeypatch):
    monkeypatch.setattr("app.web.programme.views.PER_PAGE", 2)
    first = boss_client.get("/cases?sort=-area").get_data(as_text=True)
    second = boss_client.get("/cases?sort=-area&page=2").get_data(as_text=True)
    assert case_codes(first) + case_codes(second) == ["BL004", "BL003", "BL002", "BL001"]
    links = [html_lib.unescape(u) for u in re.findall(r'class="page-link" href="([^"]+)"', first)]
    assert links and all("sort=-area" in u for u in links)
    assert '<option value="-area" selected>' in first


def test_case_filter_tags_each_remove_one_filter_and_keep_the_rest(boss_client, world):
    amy = world["amy"]
    page = boss_client.get(
        f"/cases?flag=under_criteria&rep_id={amy.id}&unassigned=1&opened_from=2021-01-01"
        "&status=all&sort=area"
    ).get_data(as_text=True)
    found = tags(page)
    assert list(found) == [
        "All cases",
        "Flag: Under criteria",
        "Rep: Amy Alpha",
        "Has no rep",
        "Opened from 1 Jan 2021",
    ]
    everything = {
        "status": ["all"],
        "flag": ["under_criteria"],
        "rep_id": [str(amy.id)],
        "unassigned": ["1"],
        "opened_from": ["2021-01-01"],
        "sort": ["area"],
    }
    for label, field in (
        ("All cases", "status"),
        ("Flag: Under criteria", "flag"),
        ("Rep: Amy Alpha", "rep_id"),
        ("Has no rep", "unassigned"),
        ("Opened from 1 Jan 2021", "opened_from"),
    ):
        assert found[label] == {k: v for k, v in everything.items() if k != field}
    assert "Selected filters" in page


def test_removing_a_tag_really_drops_the_filter(boss_client, world):
    page = boss_client.get(f"/cases?rep_id={world['amy'].id}&flag=at_threshold")
    assert case_codes(page.get_data(as_text=True)) == ["BL001"]
    flag_tag = html_lib.unescape(TAG.findall(page.get_data(as_text=True))[0][0])
    assert sorted(case_codes(boss_client.get(flag_tag).get_data(as_text=True))) == [
        "BL001",
        "BL003",
    ]


def test_no_tags_without_filters_and_text_filters_are_escaped(boss_client):
    assert "Selected filters" not in boss_client.get("/cases").get_data(as_text=True)
    page = boss_client.get("/cases?area=%3Cb%3Ex").get_data(as_text=True)
    assert "Area: &lt;b&gt;x" in page and "<b>x" not in page


@pytest.mark.parametrize(
    "sort,expected",
    [
        ("code", ["BL001", "BL002", "BL003", "BL004", "BL005"]),
        ("-code", ["BL005", "BL004", "BL003", "BL002", "BL001"]),
        ("rep", ["BL001", "BL003", "BL002", "BL004", "BL005"]),
        ("-rep", ["BL002", "BL001", "BL003", "BL004", "BL005"]),
        ("members", ["BL004", "BL002", "BL003", "BL001", "BL005"]),
        ("-members", ["BL001", "BL003", "BL002", "BL004", "BL005"]),
        ("as_of", ["BL004", "BL002", "BL001", "BL003", "BL005"]),
        ("-as_of", ["BL003", "BL001", "BL002", "BL004", "BL005"]),
    ],
)
def test_area_list_sorts_by_each_column(boss_client, sort, expected):
    assert case_codes(boss_client.get(f"/areas?sort={sort}").get_data(as_text=True)) == expected


def test_area_headers_and_tags(boss_client, world):
    page = boss_client.get("/areas?flag=under_criteria&rep=none").get_data(as_text=True)
    found = headers(page)
    # The default order (area code) is marked; its link sorts the other way.
    assert found["Area"] == (
        "ascending",
        {"sort": ["-code"], "flag": ["under_criteria"], "rep": ["none"]},
    )
    assert found["Rep"][0] == "none"
    assert tags(page) == {
        "Evaluation: Under criteria": {"rep": ["none"]},
        "No rep": {"flag": ["under_criteria"]},
    }
    page = boss_client.get(f"/areas?rep={world['zed'].id}&sort=-members&q=BL").get_data(
        as_text=True
    )
    assert tags(page) == {
        "Area: BL": {"rep": [str(world["zed"].id)], "sort": ["-members"]},
        "Rep: Zed Zulu": {"q": ["BL"], "sort": ["-members"]},
    }
    assert boss_client.get("/areas?sort=bogus").status_code == 200


def test_rep_area_list_sorts_too(client, world):
    login_as(client, world["amy"])
    page = client.get("/areas?sort=-code").get_data(as_text=True)
    assert case_codes(page) == ["BL003", "BL001"]
    assert headers(page)["Area"][0] == "descending"


def _more_cases(n: int, reps) -> None:
    for i in range(n):
        add_snapshot(make_area(rep=reps[i % len(reps)] if i % 3 else None), 6, 4, year=2021)


@pytest.mark.parametrize(
    "url",
    [
        "/cases?sort=-rep&flag=under_criteria&unassigned=0&opened_from=2000-01-01",
        "/cases?sort=overdue&status=all&region=North",
        "/cases?sort=-status",
        "/areas?sort=-members&flag=under_criteria&q=B",
        "/areas?sort=rep&rep=none",
    ],
)
def test_sorted_and_filtered_lists_query_count_does_not_grow(boss_client, world, url):
    counts = []
    for n in (2, 30):
        _more_cases(n, [world["amy"], world["zed"]])
        db.session.commit()
        with count_queries() as counter:
            resp = boss_client.get(url)
        assert resp.status_code == 200 and "sort-link" in resp.get_data(as_text=True)
        counts.append(counter.count)
    assert counts[0] == counts[1]
    assert db.session.scalar(select(Case.id).limit(1)) is not None
