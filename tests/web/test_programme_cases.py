"""The programme team's case list: filters, errors, pages, CSV, access and query counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, OutboxMessage
from tests.factories import add_snapshot, make_area, make_user
from tests.querycount import count_queries
from tests.web.conftest import csrf_token, login_as, post_form


def sign_in(client, user):
    login_as(client, user)
    return client


def listed_case_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r">Case #(\d+)</a>", html)]


def case_of(area) -> Case:
    return db.session.scalar(select(Case).where(Case.area_id == area.id))


@pytest.fixture
def boss(app):
    return make_user("programme", name="Pat Programme")


def test_list_shows_area_flag_reasons_status_and_rep(client, boss):
    rep = make_user("rep", name="Rita Rep")
    mine = make_area("BL001", rep=rep)
    add_snapshot(mine, 6, 2, year=2021)
    orphan = make_area("BL002")
    add_snapshot(orphan, 8, 5, year=2021)
    db.session.commit()
    html = sign_in(client, boss).get("/cases").get_data(as_text=True)
    assert "BL001" in html and mine.name in html
    assert "/areas/BL001" in html
    assert "fewer than the required number of members" in html
    assert "residents are not more than half of the members" in html
    assert "Rita Rep" in html and "Unassigned" in html
    assert "30 Sep 2021" in html
    assert sorted(listed_case_ids(html)) == sorted([case_of(mine).id, case_of(orphan).id])
    assert "<strong>2</strong> cases match" in html


def test_filters_narrow_the_list(client, boss):
    rep = make_user("rep", region="North")
    a, b = make_area("BL001", rep=rep), make_area("BL002")
    add_snapshot(a, 6, 4, year=2021)
    add_snapshot(b, 8, 5, year=2021)
    db.session.commit()
    sign_in(client, boss)
    assert listed_case_ids(client.get("/cases?unassigned=1").get_data(as_text=True)) == [
        case_of(b).id
    ]
    assert listed_case_ids(client.get("/cases?region=North").get_data(as_text=True)) == [
        case_of(a).id
    ]
    assert listed_case_ids(client.get("/cases?flag=at_threshold").get_data(as_text=True)) == [
        case_of(b).id
    ]


def test_bad_filter_values_are_named_in_an_error_summary_linking_to_the_field(client, boss):
    a = make_area()
    add_snapshot(a, 6, 4, year=2021)
    db.session.commit()
    resp = sign_in(client, boss).get("/cases?opened_from=yesterday&status=nope&cohort=abc")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    summary = html[html.index('id="error-summary"') :]
    assert 'href="#f-opened_from"' in summary and "yesterday" in summary
    assert 'href="#f-status"' in summary and 'href="#f-cohort"' in summary
    assert 'id="f-opened_from"' in html
    # The bad values are dropped: the list still shows the open case.
    assert listed_case_ids(html) == [case_of(a).id]


def test_empty_result_says_what_to_do(client, boss):
    db.session.commit()
    html = sign_in(client, boss).get("/cases?flag=at_threshold").get_data(as_text=True)
    assert "No cases match these filters" in html and "Clear the filters" in html


def test_pages_list_every_case_once_and_keep_the_filters(client, boss, monkeypatch):
    monkeypatch.setattr("app.web.programme.views.PER_PAGE", 3)
    for i in range(7):
        add_snapshot(make_area(f"BL{i:03d}"), 6, 4, year=2021)
    add_snapshot(make_area("ZZ999"), 10, 7, year=2021)  # no case
    db.session.commit()
    sign_in(client, boss)
    first = client.get("/cases?sort=area&flag=under_criteria").get_data(as_text=True)
    assert "<strong>7</strong> cases match" in first
    assert 'aria-current="page"' in first
    links = set(re.findall(r'href="(/cases\?[^"]*page=\d[^"]*)"', first))
    assert links and all("flag=under_criteria" in u and "sort=area" in u for u in links)
    seen: list[int] = []
    for page in (1, 2, 3):
        html = client.get(f"/cases?sort=area&flag=under_criteria&page={page}")
        seen += listed_case_ids(html.get_data(as_text=True))
    assert len(seen) == 7 and len(set(seen)) == 7
    # Past the last page shows the last page, not an empty list.
    last = client.get("/cases?sort=area&flag=under_criteria&page=99").get_data(as_text=True)
    assert listed_case_ids(last) == seen[-1:]


def read_csv(resp) -> list[dict]:
    text = resp.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_the_same_rows_and_neutralises_formulas(client, boss, monkeypatch):
    monkeypatch.setattr("app.web.programme.views.PER_PAGE", 2)
    evil = make_area("BL666")
    evil.name = "=cmd|' /C calc'!A0"
    add_snapshot(evil, 6, 4, year=2021)
    for i in range(3):
        add_snapshot(make_area(f"BL{i:03d}"), 6, 4, year=2020 + i)
    add_snapshot(make_area("BL100"), 8, 5, year=2021)
    db.session.commit()
    sign_in(client, boss)
    resp = client.get("/cases.csv?flag=under_criteria&sort=opened")
    assert resp.mimetype == "text/csv"
    rows = read_csv(resp)
    listed = []
    for page in (1, 2):
        html = client.get(f"/cases?flag=under_criteria&sort=opened&page={page}")
        listed += listed_case_ids(html.get_data(as_text=True))
    assert [int(r["case_id"]) for r in rows] == listed
    assert len(rows) == 4
    evil_row = next(r for r in rows if r["area_code"] == "BL666")
    assert evil_row["area_name"] == "'=cmd|' /C calc'!A0"
    assert evil_row["reasons"] == "too_few_members"


def test_rep_gets_404_on_every_programme_route(client, app):
    rep = make_user("rep")
    area = make_area("BL001", rep=rep)
    add_snapshot(area, 6, 4, year=2021)
    case = case_of(area)
    db.session.commit()
    sign_in(client, rep)
    for url in ("/cases", "/cases.csv", "/cases/unassigned", f"/cases/{case.id}/close"):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"/cases/{case.id}/assign", {"rep_id": rep.id, "version": case.version}),
        (f"/cases/{case.id}/close", {"reason": "x", "version": case.version}),
        ("/areas/BL001/rep", {"rep_id": ""}),
    ):
        assert post_form(client, url, data).status_code == 404, url
    db.session.expire_all()
    assert case_of(area).status == "new" and area.rep_id == rep.id


def test_post_without_csrf_token_is_refused(client, boss):
    rep = make_user("rep")
    area = make_area()
    add_snapshot(area, 6, 4, year=2021)
    case = case_of(area)
    db.session.commit()
    sign_in(client, boss)
    data = {"rep_id": rep.id, "version": case.version}
    assert client.post(f"/cases/{case.id}/assign", data=data).status_code == 400
    closing = {"reason": "left", "version": case.version}
    assert client.post(f"/cases/{case.id}/close", data=closing).status_code == 400
    assert client.post(f"/areas/{area.code}/rep", data={"rep_id": rep.id}).status_code == 400
    db.session.expire_all()
    assert case_of(area).rep_id is None and case_of(area).status == "new"


def _add_cases(n: int, reps) -> None:
    for i in range(n):
        area = make_area(rep=reps[i % len(reps)] if i % 3 else None)
        add_snapshot(area, 6 + i % 3, 4, year=2021)


@pytest.mark.parametrize("url", ["/cases", "/cases?sort=area&status=all", "/cases/unassigned"])
def test_query_count_does_not_grow_with_cases(client, boss, url):
    reps = [make_user("rep", region=f"R{i}") for i in range(3)]
    counts = []
    for n in (2, 28):
        _add_cases(n, reps)
        db.session.commit()
        sign_in(client, boss)
        with count_queries() as counter:
            resp = client.get(url)
        assert resp.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 20


def test_dates_are_shown_in_london_time(client, boss):
    area = make_area()
    add_snapshot(area, 6, 4, year=2021, now=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    db.session.commit()
    html = sign_in(client, boss).get(f"/cases/{case_of(area).id}/close").get_data(as_text=True)
    assert "30 Sep 2021" in html


def _open_cases(n: int, rep=None) -> list[Case]:
    areas = [make_area(f"BK{i:03d}", rep=rep) for i in range(n)]
    for area in areas:
        add_snapshot(area, 6, 4, year=2025)
    db.session.commit()
    return [case_of(a) for a in areas]


def test_bulk_assign_changes_each_case_and_refuses_a_stale_one(client, boss):
    from app.models import CaseEvent

    rep = make_user("rep", name="Rita Rep")
    cases = _open_cases(5)
    picks = [f"{c.id}:{c.version}" for c in cases]
    stale = cases[2]
    stale.status = "contacted"  # someone changed it after the list was shown
    db.session.commit()
    sign_in(client, boss)
    response = post_form(
        client, "/cases/bulk", {"case": picks, "action": "assign", "rep_id": str(rep.id)}
    )
    html = response.get_data(as_text=True)
    assert "4 changed, 1 refused" in html
    refused = html.split('id="refused"', 1)[1].split("</table>", 1)[0]
    assert f"Case #{stale.id}" in refused and "Someone else changed this case" in refused
    db.session.rollback()
    reps = {c.id: db.session.get(Case, c.id).rep_id for c in cases}
    assert reps.pop(stale.id) is None and set(reps.values()) == {rep.id}
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "assigned")).all()
    assert sorted(e.case_id for e in events) == sorted(reps)  # one event per changed case
    # One notice for the rep, listing the four cases (not four notices).
    assert "Rita Rep gets one email listing the cases now assigned to them." in html
    (notice,) = db.session.scalars(select(OutboxMessage)).all()
    assert notice.kind == "new_cases" and notice.subject == "4 cases assigned to you"


def _bulk_assign_queries(client, boss, rep, picked: list[Case]) -> int:
    picks = [f"{c.id}:{c.version}" for c in picked]
    sign_in(client, boss)
    data = {"case": picks, "action": "assign", "rep_id": str(rep.id)}
    data["csrf_token"] = csrf_token(client)
    with count_queries() as counter:
        html = client.post("/cases/bulk", data=data).get_data(as_text=True)
    assert f"{len(picked)} changed, 0 refused" in html
    return counter.count


def test_bulk_result_page_query_count_does_not_grow_with_the_data(client, boss):
    rep = make_user("rep", name="Rita Rep")
    counts = []
    for n in (2, 30):
        _add_cases(n, [make_user("rep")])  # other cases, not selected
        picked = [make_area(rep=make_user("rep")) for _ in range(3)]
        for area in picked:
            add_snapshot(area, 6, 4, year=2025)
        db.session.commit()
        counts.append(_bulk_assign_queries(client, boss, rep, [case_of(a) for a in picked]))
    assert counts[0] == counts[1]


def test_bulk_queries_grow_by_a_fixed_number_per_selected_case(client, boss):
    """The writes are per case (the change, its event, the old rep's queued mail); the page
    and the one notice are not."""
    rita, omar = make_user("rep", name="Rita Rep"), make_user("rep", name="Omar Other")
    cases = _open_cases(18)
    first = [_bulk_assign_queries(client, boss, rita, cases[a:b]) for a, b in ((0, 3), (3, 9))]
    again = [_bulk_assign_queries(client, boss, omar, cases[a:b]) for a, b in ((0, 3), (3, 9))]
    for three, six in (first, again):
        assert (six - three) % 3 == 0 and (six - three) // 3 <= 6


def test_bulk_close_all_matching_filters_across_pages(client, boss):
    rep = make_user("rep", name="Rita Rep")
    cases = _open_cases(3, rep=rep)
    other = make_area("ZZ001")
    add_snapshot(other, 6, 4, year=2025)
    db.session.commit()
    sign_in(client, boss)
    response = post_form(
        client,
        "/cases/bulk",
        {"all_matching": "1", "filters": f"rep_id={rep.id}", "action": "close", "reason": "Left"},
    )
    html = response.get_data(as_text=True)
    assert "3 changed, 0 refused" in html, html[html.find("<h1") :][:600]
    db.session.rollback()
    assert {db.session.get(Case, c.id).status for c in cases} == {"closed"}
    assert case_of(other).status == "new"


def test_bulk_without_a_selection_or_a_reason_changes_nothing(client, boss):
    cases = _open_cases(2)
    sign_in(client, boss)
    none = post_form(client, "/cases/bulk", {"action": "close", "reason": "x"})
    assert none.status_code == 302
    no_reason = post_form(
        client, "/cases/bulk", {"case": [f"{c.id}:{c.version}" for c in cases], "action": "close"}
    )
    assert no_reason.status_code == 302
    db.session.rollback()
    assert {db.session.get(Case, c.id).status for c in cases} == {"new"}
    page = client.get("/cases").get_data(as_text=True)
    assert "Give a reason for closing the cases." in page


def test_empty_filter_parameters_are_dropped_and_the_count_is_in_the_title(client, boss):
    _open_cases(2)
    sign_in(client, boss)
    response = client.get("/cases?status=open&flag=&rep_id=")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "flag=" not in location and "rep_id=" not in location and "status=open" in location
    html = client.get(location).get_data(as_text=True)
    assert "<title>Cases (2)" in html
    areas = client.get("/areas?flag=&sort=code")
    assert areas.status_code == 302 and areas.headers["Location"].endswith("/areas?sort=code")
