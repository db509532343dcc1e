"""Insights over a range of review years: the page's From/To and `flask insights --from --to`."""

import json

import pytest

from app.extensions import db
from app.operations.snapshots import store_snapshots
from app.queries.insights import programme_insights, returns_by_month
from tests.factories import make_area, make_user
from tests.web.test_insights_page import login_as, review, roster, text_of


@pytest.fixture
def three_years(app, now):
    """One area, reviews 2019-2021. p1-p7 are members every year; p8 joins in 2020 (8: at
    threshold, a return), p9 in 2021. 2019: 7 members, under criteria (a case opens)."""
    make_area("R1")
    store_snapshots(
        [
            review("R1", 2019, roster("p", range(1, 8), 5)),
            review("R1", 2020, roster("p", range(1, 9), 5)),
            review("R1", 2021, roster("p", range(1, 10), 6)),
        ],
        now=now,
    )
    db.session.commit()


def test_a_range_counts_only_its_years_but_new_means_new_ever(three_years):
    whole = programme_insights()
    assert whole["review_years"] == [2019, 2020, 2021]
    assert whole["members_in_all_reviews"] == 7
    late = programme_insights(first_year=2020, last_year=2021)
    assert late["review_years"] == [2020, 2021]
    assert late["members_by_year"] == {2020: 8, 2021: 9}
    assert late["members_in_all_reviews"] == 8  # p8 is in both 2020 and 2021
    assert late["new_members_by_year"] == {2020: 1, 2021: 1}  # p1-p7 were new in 2019
    assert late["areas_under_criteria_by_year"] == {2020: 0, 2021: 0}
    assert late["cases_returned_within_criteria"] == 0  # its case opened in 2019
    assert programme_insights(last_year=2019)["cases_returned_within_criteria"] == 1
    assert programme_insights(first_year=2019, last_year=2019)["review_years"] == [2019]
    assert returns_by_month(first_year=2020) == []
    assert len(returns_by_month(last_year=2019)) == 1


def test_cli_from_to(three_years, runner):
    result = runner.invoke(args=["insights", "--json", "--from", "2020", "--to", "2021"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["review_years"] == [2020, 2021]
    assert figures["members_by_year"] == {"2020": 8, "2021": 9}
    wrong = runner.invoke(args=["insights", "--from", "2021", "--to", "2020"])
    assert wrong.exit_code == 2 and "--from 2021 is after --to 2020" in wrong.output


def test_page_range_and_its_errors(three_years, client):
    login_as(client, make_user("programme"))
    db.session.commit()
    page = client.get("/insights?from=2020&to=2021").get_data(as_text=True)
    text = text_of(page)
    assert "review years 2020 to 2021" in text
    assert '<option value="2019">2019</option>' in page  # every year stays choosable
    assert "/insights/chart/members.svg?from=2020&amp;to=2021" in page
    assert "left out of the chart" not in text  # 2020 is not everyone-new
    svg = client.get("/insights/chart/members.svg?from=2020&to=2021").get_data(as_text=True)
    assert ">2019<" not in svg and ">2020<" in svg
    bad = text_of(client.get("/insights?from=%C2%B2&to=2019&year=2021").get_data(as_text=True))
    assert "Choose the first review year from the list." in bad
    reversed_range = text_of(client.get("/insights?from=2021&to=2019").get_data(as_text=True))
    assert "The first review year must not be after the last." in reversed_range
    assert "review years 2019 to 2021" in reversed_range  # the range is dropped, not half-used
