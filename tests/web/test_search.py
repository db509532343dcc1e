"""Search from the header box: each kind found, a rep's search within their own work only,
best matches first, guarded input, and a query count that does not grow with the data."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.operations import case_actions as ops
from app.queries.search import GROUP_LIMIT
from tests.factories import make_area, make_user
from tests.querycount import count_queries
from tests.web.conftest import login_as
from tests.web.test_my_cases import case_in_new_area


@pytest.fixture
def people(app, now):
    programme = make_user("programme", name="Pat Programme")
    rep = make_user("rep", name="Rita Ownrep", email="rita@example.org")
    other = make_user("rep", name="Oscar Otherrep", email="oscar@example.org")
    mine = case_in_new_area(rep, (6, 4), name="Kestrel Vale")
    theirs = case_in_new_area(other, (6, 4), name="Heron Marsh")
    mine.area.contacts[0].name, mine.area.contacts[0].email = "Mina Contact", "mina@vale.org"
    theirs.area.contacts[0].name, theirs.area.contacts[0].email = "Theo Contact", "theo@marsh.org"
    ops.add_note(mine, "Spoke to the treasurer about zebrafish recruitment", rep, now)
    ops.add_note(theirs, "Their zebrafish idea is unrelated", other, now)
    db.session.commit()
    return programme, rep, other, mine, theirs


def groups(html: str) -> dict[str, list[str]]:
    """Hit titles by kind, in page order."""
    found = {}
    for kind, body in re.findall(
        r'<ul class="list-unstyled" data-kind="(\w+)">(.*?)</ul>', html, re.S
    ):
        found[kind] = [t.strip() for t in re.findall(r"<(?:a [^>]*|strong)>([^<]+)</", body)]
    return found


def search_as(client, user, q: str):
    login_as(client, user)
    return client.get("/search", query_string={"q": q})


def test_programme_user_finds_every_kind(client, people):
    programme, rep, other, mine, theirs = people
    code = mine.area.code
    found = lambda q: groups(search_as(client, programme, q).get_data(as_text=True))  # noqa: E731
    assert found(f"#{mine.id}")["cases"][0] == f"Case #{mine.id}"
    assert found(str(theirs.id))["cases"][0] == f"Case #{theirs.id}"
    assert found(code.lower())["areas"] == [f"{code} Kestrel Vale"]
    assert found("heron")["areas"] == [f"{theirs.area.code} Heron Marsh"]
    assert found("Ownrep")["reps"] == ["Rita Ownrep"]
    assert found("oscar@example")["reps"] == ["Oscar Otherrep"]
    assert found("mina")["contacts"] == ["Mina Contact"]
    assert found("theo@marsh")["contacts"] == ["Theo Contact"]
    # Rosters hold "Person 0".."Person 5" in each area, in two snapshots: distinct per area.
    members = found("person 3")["members"]
    assert members == ["Person 3", "Person 3"]
    notes = found("ZEBRAFISH")["notes"]
    assert sorted(notes) == sorted(
        [f"Case #{mine.id} · {code}", f"Case #{theirs.id} · {theirs.area.code}"]
    )


def test_links_lead_to_the_case_and_area_pages(client, people):
    programme, _rep, _other, mine, _theirs = people
    html = search_as(client, programme, "treasurer").get_data(as_text=True)
    assert f'href="/cases/{mine.id}"' in html
    html = search_as(client, programme, "kestrel").get_data(as_text=True)
    assert f'href="/areas/{mine.area.code}"' in html


def test_rep_finds_only_their_own_work(client, people):
    _programme, rep, other, mine, theirs = people
    found = lambda q: groups(search_as(client, rep, q).get_data(as_text=True))  # noqa: E731
    assert found(str(mine.id))["cases"] == [f"Case #{mine.id}"]
    assert "cases" not in found(str(theirs.id))
    assert found("kestrel")["areas"] and "areas" not in found("heron")
    assert found("mina")["contacts"] == ["Mina Contact"]
    assert "contacts" not in found("theo")
    assert found("zebrafish")["notes"] == [f"Case #{mine.id} · {mine.area.code}"]
    assert "reps" not in found("oscar")
    assert found("rita")["reps"] == ["Rita Ownrep"]
    assert found("person 3")["members"] == ["Person 3"]


def test_exact_match_before_prefix_before_contains(client, people):
    programme = people[0]
    for code, name in (("XABC1", "Middle Abc"), ("ABC", "Exact"), ("ABCZ", "Prefix")):
        area = make_area(code)
        area.name = name
    db.session.commit()
    titles = groups(search_as(client, programme, "abc").get_data(as_text=True))["areas"]
    assert titles[:3] == ["ABC Exact", "ABCZ Prefix", "XABC1 Middle Abc"]


def test_one_or_two_characters_match_the_start_only_and_say_so(client, people):
    programme, _rep, _other, mine, _theirs = people
    for code, name in (("XAB1", "Middle Ab"), ("AB", "Exact"), ("ABZ", "Prefix")):
        area = make_area(code)
        area.name = name
    db.session.commit()
    html = search_as(client, programme, "ab").get_data(as_text=True)
    assert groups(html)["areas"] == ["AB Exact", "ABZ Prefix"]
    assert "Type three or more to search inside them and in notes" in html
    # "Mina Contact" and "mina@vale.org" start with "mi"; the note's "treasurer" holds "tr".
    found = groups(search_as(client, programme, "mi").get_data(as_text=True))
    assert found["contacts"] == ["Mina Contact"] and "notes" not in found
    html = search_as(client, programme, "ab1").get_data(as_text=True)
    assert groups(html)["areas"] == ["XAB1 Middle Ab"]
    assert "Type three or more" not in html


def test_case_numbers_match_by_their_leading_digits(client, people):
    programme, _rep, _other, mine, theirs = people
    found = lambda q: groups(search_as(client, programme, q).get_data(as_text=True))  # noqa: E731
    first = str(min(mine.id, theirs.id))
    assert found(first[0]).get("cases", [])[:1] == [f"Case #{min(mine.id, theirs.id)}"]
    # Past the largest id the database holds, and numbers with a leading zero: no case.
    for number in ("2147483647", "21474836470", "999999999999", "0", f"0{mine.id}"):
        assert "cases" not in found(number), number


@pytest.fixture
def more_areas_than_shown(people):
    """GROUP_LIMIT + 3 areas whose codes hold "lim"."""
    for i in range(GROUP_LIMIT + 3):
        make_area(f"LIM{i:02d}")
    db.session.commit()


def test_groups_are_limited_and_say_how_many_more(client, people, more_areas_than_shown):
    programme = people[0]
    html = search_as(client, programme, "lim").get_data(as_text=True)
    assert len(groups(html)["areas"]) == GROUP_LIMIT
    assert "and 3 more" in html
    assert f"{GROUP_LIMIT + 3}</span>" in html


def test_more_areas_than_shown_lead_to_the_areas_list_with_every_one(
    client, people, more_areas_than_shown
):
    programme = people[0]
    html = search_as(client, programme, "lim").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Every area whose code or name contains', html)
    assert link, "no link to the areas list"
    listed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    for i in range(GROUP_LIMIT + 3):
        assert f"LIM{i:02d}" in listed
    assert "Kestrel Vale" not in listed  # filtered, not the whole list
    # every area shown already: no link
    html = search_as(client, programme, "kestrel").get_data(as_text=True)
    assert groups(html)["areas"] and "in the areas list" not in html


def test_empty_and_nothing_found_and_escaped(client, people):
    programme = people[0]
    assert "Type what you are looking for" in search_as(client, programme, "  ").get_data(
        as_text=True
    )
    html = search_as(client, programme, "<b>nowhere%_</b>").get_data(as_text=True)
    assert "Nothing found for “&lt;b&gt;nowhere%_&lt;/b&gt;”" in html
    assert "<b>nowhere" not in html


def test_wildcards_match_literally(client, people):
    programme = people[0]
    assert groups(search_as(client, programme, "%").get_data(as_text=True)) == {}


def test_bad_input_is_refused_with_a_clear_message(client, people):
    programme = people[0]
    response = search_as(client, programme, "x" * 101)
    assert response.status_code == 400
    assert "at most 100 characters (you typed 101)" in response.get_data(as_text=True)
    response = search_as(client, programme, "tab\there")
    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)


def test_header_box_on_every_signed_in_page(client, people):
    login_as(client, people[1])
    html = client.get("/my-cases").get_data(as_text=True)
    assert re.search(r'<form[^>]*action="/search"[^>]*role="search"', html)
    assert '<label class="visually-hidden" for="header-search">Search</label>' in html


def test_anonymous_visitor_is_sent_to_sign_in(client, app):
    response = client.get("/search?q=x")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("who", ["programme", "rep"])
def test_query_count_does_not_grow_with_the_data(client, people, now, who):
    programme, rep = people[0], people[1]
    user = programme if who == "programme" else rep
    login_as(client, user)

    def queries():
        db.session.expire_all()  # the same user load on both measurements
        with count_queries() as counter:
            assert client.get("/search?q=1").status_code == 200
        return counter.count

    few = queries()
    for i in range(12):
        case = case_in_new_area(rep, (6, 4), name=f"Area 1{i}")
        ops.add_note(case, f"Note 1{i}", rep, now)
    make_user("rep", name="Rep 1 more")
    db.session.commit()
    assert queries() == few


def test_a_common_term_is_counted_up_to_a_limit(client, people, monkeypatch):
    """Past COUNT_LIMIT matches a group stops counting and says so, rather than reading every
    match of a common term."""
    import app.queries.search as search_module

    monkeypatch.setattr(search_module, "COUNT_LIMIT", 4)
    programme = people[0]
    for i in range(6):
        make_area(f"CAP{i}")
    db.session.commit()
    html = search_as(client, programme, "cap").get_data(as_text=True)
    assert len(groups(html)["areas"]) == 6  # the page is cut at GROUP_LIMIT, not the count
    assert "4+</span>" in html
    assert "More than 4 matches for “cap”" in html
    monkeypatch.setattr(search_module, "COUNT_LIMIT", 6)
    html = search_as(client, programme, "cap").get_data(as_text=True)
    assert "6</span>" in html and "6 matches for “cap”" in html and "More than" not in html
