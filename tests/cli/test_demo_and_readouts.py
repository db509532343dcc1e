"""`flask demo load`, `flask insights --json`, `flask cases list --json`, `flask users create`.

The expected figures are the published 2021 summary's (docs/insights.md), not the code's
output."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.operations.users import password_matches
from app.queries.cases import CASE_KEYS
from app.queries.insights import KEYS
from tests.factories import add_snapshot, make_area, make_user


@pytest.fixture
def demo(demo_load):
    return demo_load


def test_demo_load_prints_working_logins(demo):
    assert "password:" in demo
    password = demo.split("password:")[1].split()[0]
    emails = [line.split(":", 1)[1].strip() for line in demo.splitlines() if "@" in line]
    assert len(emails) == 3
    for email in emails:
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None and password_matches(user, password)
    admin = db.session.scalar(select(User).where(User.email == emails[0]))
    assert admin.is_admin and admin.is_programme


def test_demo_load_refuses_a_database_with_areas_and_if_empty_skips(demo, runner):
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 1 and "already holds areas" in again.output
    skipped = runner.invoke(args=["demo", "load", "--if-empty"])
    assert skipped.exit_code == 0 and "nothing loaded" in skipped.output


def test_demo_insights_give_the_2021_summary_figures(demo, runner):
    result = runner.invoke(args=["insights", "--json", "--from", "2015", "--to", "2021"])
    figures = json.loads(result.output)
    assert tuple(figures) == KEYS
    assert figures["review_years"] == list(range(2015, 2022))
    assert figures["members_by_year"]["2020"] == 1455
    assert figures["members_by_year"]["2021"] == 1506
    assert figures["new_members_by_year"]["2020"] == 252
    assert figures["new_members_by_year"]["2021"] == 374
    for year in ("2016", "2017", "2018", "2019"):
        assert 380 <= figures["new_members_by_year"][year] <= 420
    assert figures["distinct_members_total"] > 4300
    assert round(figures["average_distinct_members_per_partnership"]) == 29
    assert figures["members_in_all_reviews"] == 276
    assert figures["partnerships_with_member_in_all_reviews"] == 108
    assert figures["partnerships_with_3plus_members_in_all_reviews"] == 44
    assert figures["areas_under_criteria_by_year"]["2020"] == 42
    assert figures["areas_under_criteria_by_year"]["2021"] == 28


def test_demo_cases_list_shows_the_2021_cases_twelve_returned(demo, runner):
    rows = json.loads(runner.invoke(args=["cases", "list", "--json"]).output)
    assert all(tuple(row) == CASE_KEYS for row in rows)
    review_2021 = "2021-09-30"
    # The cases open after the 2021 review: opened by it or earlier and still open then.
    cases_2021 = [
        r
        for r in rows
        if r["opened_on"] <= review_2021 and (r["resolved_on"] or "9999") > review_2021
    ]
    under_2021 = [r for r in cases_2021 if r["opened_on"] == review_2021 or r["flag"]]
    assert len({r["area_code"] for r in under_2021}) == len(under_2021)
    # Twelve came back in the follow-up year, before the 2022 review.
    returned_after = [
        r for r in cases_2021 if r["returned_on"] and review_2021 < r["returned_on"] < "2022-09-30"
    ]
    assert len(returned_after) == 12


def test_demo_reviews_run_to_the_most_recent_september(demo, runner):
    from app import clock
    from app.demo.loader import latest_review_year

    figures = json.loads(runner.invoke(args=["insights", "--json"]).output)
    last = latest_review_year(clock.now())
    assert figures["review_years"] == list(range(2015, last + 1))
    assert last >= 2022
    # Later years look like the earlier ones: a programme of about 1,500 counted members.
    for year in range(2022, last + 1):
        assert 1300 <= figures["members_by_year"][str(year)] <= 1800
        assert 250 <= figures["new_members_by_year"][str(year)] <= 500


def test_insights_for_chosen_areas_and_unknown_area(demo, runner):
    one = json.loads(runner.invoke(args=["insights", "--json", "--area", "BL001"]).output)
    whole = json.loads(runner.invoke(args=["insights", "--json"]).output)
    assert 0 < one["members_by_year"]["2021"] < whole["members_by_year"]["2021"]
    bad = runner.invoke(args=["insights", "--json", "--area", "NOPE"])
    assert bad.exit_code != 0 and "NOPE" in bad.output


def test_cases_list_filters_and_exact_keys(app, runner):
    rep = make_user("rep", email="rita@example.org")
    a, b = make_area("AA1", rep=rep), make_area("BB2")
    add_snapshot(a, 6, 4, year=2021)
    add_snapshot(b, 8, 5, year=2021)
    db.session.commit()
    rows = json.loads(runner.invoke(args=["cases", "list", "--json"]).output)
    assert [tuple(r) for r in rows] == [CASE_KEYS, CASE_KEYS]
    under = json.loads(
        runner.invoke(args=["cases", "list", "--json", "--flag", "under_criteria"]).output
    )
    assert [r["area_code"] for r in under] == ["AA1"]
    assert (
        under[0]["reasons"] == ["too_few_members"] and under[0]["rep_email"] == "rita@example.org"
    )
    by_area = json.loads(runner.invoke(args=["cases", "list", "--json", "--area", "bb2"]).output)
    assert [(r["flag"], r["rep_email"]) for r in by_area] == [("at_threshold", None)]
    assert (
        json.loads(runner.invoke(args=["cases", "list", "--json", "--status", "resolved"]).output)
        == []
    )
    table = runner.invoke(args=["cases", "list"]).output
    assert "AA1" in table and "2 case(s)" in table


def test_users_create_with_password_from_stdin(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Pat@Example.org",
            "--name",
            "Pat",
            "--role",
            "programme",
            "--admin",
            "--password-stdin",
        ],
        input="a-long-enough-password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "pat@example.org"))
    assert user.is_admin and password_matches(user, "a-long-enough-password")


def test_users_create_refuses_duplicates_bad_email_and_short_password(app, runner):
    args = ["users", "create", "--name", "Pat", "--role", "rep"]
    assert runner.invoke(args=[*args, "--email", "pat@example.org"]).exit_code == 0
    duplicate = runner.invoke(args=[*args, "--email", "PAT@example.org"])
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    bad = runner.invoke(args=[*args, "--email", "not-an-email"])
    assert bad.exit_code == 1 and "not a valid email" in bad.output
    short = runner.invoke(args=[*args, "--email", "q@example.org", "--password-stdin"], input="x\n")
    assert short.exit_code == 1 and "at least" in short.output
    rep_admin = runner.invoke(args=[*args, "--email", "r@example.org", "--admin"])
    assert rep_admin.exit_code != 0
    assert len(db.session.scalars(select(User)).all()) == 1


def test_the_named_rep_has_a_case_in_each_open_status_and_the_queue_has_cases(demo):
    from sqlalchemy import func

    from app.models import Case
    from app.rules.vocabulary import OPEN_STATUSES

    rep_email = demo.split("rep:", 1)[1].split()[0]
    rep = db.session.scalar(select(User).where(User.email == rep_email))
    statuses = set(
        db.session.scalars(
            select(Case.status).where(Case.rep_id == rep.id, Case.status.in_(OPEN_STATUSES))
        )
    )
    assert statuses == set(OPEN_STATUSES)
    unassigned = db.session.scalar(
        select(func.count()).where(Case.rep_id.is_(None), Case.status.in_(OPEN_STATUSES))
    )
    assert unassigned >= 1
