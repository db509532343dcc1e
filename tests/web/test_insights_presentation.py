"""Insights in words, tables and chart series: pure functions, no database."""

from __future__ import annotations

import pytest

from app.web.insights.presentation import (
    CHART_NAMES,
    chart,
    count_words,
    fill_months,
    long_rows,
    month_label,
    summary_figures,
    year_figures,
    year_on_year,
)

# The published 2020 and 2021 figures (partnership-reviews-2021.md), with made-up earlier years.
INSIGHTS = {
    "review_years": [2019, 2020, 2021],
    "distinct_members_total": 4321,
    "average_distinct_members_per_partnership": 28.8,
    "members_by_year": {2019: 1590, 2020: 1455, 2021: 1506},
    "new_members_by_year": {2019: 391, 2020: 252, 2021: 374},
    "members_in_all_reviews": 276,
    "partnerships_with_member_in_all_reviews": 108,
    "partnerships_with_3plus_members_in_all_reviews": 1,
    "areas_under_criteria_by_year": {2019: 36, 2020: 42, 2021: 28},
    "areas_at_threshold_by_year": {2019: 15, 2020: 17, 2021: 17},
    "cases_returned_within_criteria": 12,
}


def test_members_up_from_the_previous_year_with_thousands_separators():
    assert year_on_year(1506, 2021, 1455, 2020) == "1,506 members in 2021, up from 1,455 in 2020"


def test_areas_under_criteria_down_from_the_previous_year():
    sentence = year_on_year(
        28, 2021, 42, 2020, singular="area", plural="areas", qualifier="under criteria"
    )
    assert sentence == "28 areas under criteria in 2021, down from 42 in 2020"


def test_no_change_reads_the_same_as():
    assert year_on_year(17, 2021, 17, 2020, singular="area") == (
        "17 areas in 2021, the same as in 2020"
    )


def test_one_is_singular_and_a_first_year_has_no_comparison():
    assert year_on_year(1, 2015, singular="area", qualifier="at threshold") == (
        "1 area at threshold in 2015"
    )
    assert year_on_year(0, 2021, 3, 2020, singular="area") == "0 areas in 2021, down from 3 in 2020"


def test_count_words_irregular_plural_and_separators():
    assert count_words(4321, "person", "people") == "4,321 people"
    assert count_words(1, "person", "people") == "1 person"
    assert count_words(1000000, "case") == "1,000,000 cases"


def test_year_figures_compare_with_the_review_year_before():
    figures = {f.key: f for f in year_figures(INSIGHTS, 2021)}
    members = figures["members_by_year"]
    assert (members.value, members.previous, members.previous_year, members.change) == (
        1506,
        1455,
        2020,
        51,
    )
    assert members.sentence == "1,506 members in 2021, up from 1,455 in 2020"
    assert figures["new_members_by_year"].sentence == (
        "374 new members in 2021, up from 252 in 2020"
    )
    assert figures["areas_under_criteria_by_year"].sentence == (
        "28 areas under criteria in 2021, down from 42 in 2020"
    )
    assert figures["areas_at_threshold_by_year"].sentence.endswith("the same as in 2020")
    assert figures["areas_at_threshold_by_year"].change == 0


def test_the_first_review_year_has_nothing_to_compare_with():
    figures = year_figures(INSIGHTS, 2019)
    assert all(f.previous is None and f.change is None for f in figures)
    assert figures[0].sentence == "1,590 members in 2019"


def test_a_gap_in_review_years_compares_with_the_last_review_before():
    insights = {**INSIGHTS, "review_years": [2019, 2021]}
    assert year_figures(insights, 2021)[0].sentence == (
        "1,506 members in 2021, down from 1,590 in 2019"
    )


def test_summary_sentences():
    sentences = {f.key: f.sentence for f in summary_figures(INSIGHTS)}
    assert sentences["distinct_members_total"].startswith(
        "4,321 people have been partnership members since 2019"
    )
    assert sentences["members_in_all_reviews"] == "276 members appeared in all three reviews."
    assert sentences["partnerships_with_3plus_members_in_all_reviews"] == (
        "1 partnership has at least three members who appeared in all three reviews."
    )
    assert sentences["cases_returned_within_criteria"] == (
        "12 cases came back within criteria after follow-up."
    )


def test_fill_months_adds_empty_months_across_a_new_year():
    assert fill_months([("2021-11", 2), ("2022-02", 1)]) == [
        ("2021-11", 2),
        ("2021-12", 0),
        ("2022-01", 0),
        ("2022-02", 1),
    ]
    assert fill_months([]) == []
    assert month_label("2021-10") == "Oct 2021"


def test_charts_carry_the_insights_numbers():
    areas = chart("areas", INSIGHTS, [])
    assert areas.x_labels == ("2019", "2020", "2021")
    assert areas.rows == [("2019", (36, 15)), ("2020", (42, 17)), ("2021", (28, 17))]
    returns = chart("returns", INSIGHTS, [("2021-10", 3), ("2021-12", 1)])
    assert returns.rows == [("Oct 2021", (3,)), ("Nov 2021", (0,)), ("Dec 2021", (1,))]
    assert returns.table_rows == [("Oct 2021", (3,)), ("Dec 2021", (1,))]
    assert [chart(name, INSIGHTS, []).name for name in CHART_NAMES] == list(CHART_NAMES)
    with pytest.raises(KeyError):
        chart("pie", INSIGHTS, [])


def test_long_rows_hold_every_figure_once():
    rows = long_rows(INSIGHTS, [("2021-10", 3)])
    table = {(t, k): v for t, k, v in rows}
    assert len(table) == len(rows)
    assert table[("summary", "distinct_members_total")] == 4321
    assert table[("summary", "average_distinct_members_per_partnership")] == 28.8
    assert table[("members_by_year", "2020")] == 1455
    assert table[("areas_at_threshold_by_year", "2021")] == 17
    assert table[("returns_by_month", "2021-10")] == 3
    assert len(rows) == 6 + 4 * 3 + 1
