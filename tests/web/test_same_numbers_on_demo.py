"""On the demo programme, `flask insights --json`, the insights page, its CSV and the dashboard
give the same numbers (they all read app/queries)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from app.demo.loader import ADMIN_EMAIL
from app.extensions import db
from app.models import User
from tests.web.conftest import login_as


@pytest.fixture
def demo_team(app, runner, client, demo_load):
    figures = json.loads(runner.invoke(args=["insights", "--json"]).output)
    login_as(client, db.session.scalar(select(User).where(User.email == ADMIN_EMAIL)))
    return figures


def test_csv_export_and_cli_json_agree(demo_team, client):
    figures = demo_team
    response = client.get("/insights.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    table = {(r[0], r[1]): r[2] for r in rows[1:]}
    for key in (
        "members_by_year",
        "new_members_by_year",
        "areas_under_criteria_by_year",
        "areas_at_threshold_by_year",
    ):
        for year, value in figures[key].items():
            assert float(table[(key, year)]) == value, (key, year)
    for key in (
        "distinct_members_total",
        "members_in_all_reviews",
        "partnerships_with_member_in_all_reviews",
        "partnerships_with_3plus_members_in_all_reviews",
        "cases_returned_within_criteria",
        "average_distinct_members_per_partnership",
    ):
        assert float(table[("summary", key)]) == figures[key], key


def test_insights_page_shows_the_cli_figures(demo_team, client):
    figures = demo_team
    page = client.get("/insights?year=2021").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    members = figures["members_by_year"]
    assert f"{members['2021']:,} members in 2021, up from {members['2020']:,} in 2020" in text
    assert f"{figures['distinct_members_total']:,}" in text
    assert str(figures["members_in_all_reviews"]) in text


def test_dashboard_returned_cases_match_the_insights(demo_team, client):
    page = client.get("/dashboard").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    returned = demo_team["cases_returned_within_criteria"]
    assert f"over {returned} returned cases" in text
