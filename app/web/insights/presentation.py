"""Programme insights in words, tables and chart series (pure: no database, no Flask).

Takes the dict of `app.queries.insights.programme_insights` and the rows of `returns_by_month`
and shapes them for the insights page, its charts and its exports, so all of them show the same
numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.queries.chart import Chart

NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def count_words(n: int, singular: str, plural: str | None = None) -> str:
    """'1,506 members', '1 member' (thousands separators, the right plural)."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


def small_number(n: int) -> str:
    """'seven' for small numbers, '1,506' beyond nine (the way the programme's summary reads)."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else f"{n:,}"


def year_on_year(
    value: int,
    year: int,
    previous: int | None = None,
    previous_year: int | None = None,
    *,
    singular: str = "member",
    plural: str | None = None,
    qualifier: str = "",
) -> str:
    """'1,506 members in 2021, up from 1,455 in 2020'; 'down from'; 'the same as in 2020'.

    `qualifier` follows the noun: '28 areas under criteria in 2021, down from 42 in 2020'."""
    what = count_words(value, singular, plural) + (f" {qualifier}" if qualifier else "")
    sentence = f"{what} in {year}"
    if previous is None or previous_year is None:
        return sentence
    if value > previous:
        return f"{sentence}, up from {previous:,} in {previous_year}"
    if value < previous:
        return f"{sentence}, down from {previous:,} in {previous_year}"
    return f"{sentence}, the same as in {previous_year}"


@dataclass(frozen=True)
class YearlySeries:
    key: str  # the programme_insights key
    label: str  # column heading
    singular: str
    plural: str
    qualifier: str = ""


YEARLY = (
    YearlySeries("members_by_year", "Counted members", "member", "members"),
    YearlySeries("new_members_by_year", "New members", "new member", "new members"),
    YearlySeries(
        "areas_under_criteria_by_year", "Areas under criteria", "area", "areas", "under criteria"
    ),
    YearlySeries(
        "areas_at_threshold_by_year",
        "Areas at threshold",
        "area",
        "areas",
        "at threshold (exactly eight members)",
    ),
)


@dataclass(frozen=True)
class YearFigure:
    key: str
    label: str
    year: int
    value: int
    previous_year: int | None
    previous: int | None
    sentence: str

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.value - self.previous


def previous_review_year(insights: Mapping[str, Any], year: int) -> int | None:
    earlier = [y for y in insights["review_years"] if y < year]
    return max(earlier) if earlier else None


def year_figures(insights: Mapping[str, Any], year: int) -> list[YearFigure]:
    """A review year's figures, each with the change from the review year before it."""
    before = previous_review_year(insights, year)
    figures = []
    for series in YEARLY:
        by_year = insights[series.key]
        value = int(by_year.get(year, 0))
        previous = int(by_year.get(before, 0)) if before is not None else None
        figures.append(
            YearFigure(
                key=series.key,
                label=series.label,
                year=year,
                value=value,
                previous_year=before,
                previous=previous,
                sentence=year_on_year(
                    value,
                    year,
                    previous,
                    before,
                    singular=series.singular,
                    plural=series.plural,
                    qualifier=series.qualifier,
                ),
            )
        )
    return figures


@dataclass(frozen=True)
class SummaryFigure:
    key: str
    label: str
    value: int | float
    sentence: str


def summary_figures(insights: Mapping[str, Any]) -> list[SummaryFigure]:
    """The figures over every review year, each with a plain-words sentence."""
    years = list(insights["review_years"])
    n = len(years)
    since = f" since {years[0]}" if years else ""
    reviews = "review" if n == 1 else "reviews"
    all_reviews = f"all {small_number(n)} {reviews}" if n != 1 else "the one review"
    total = insights["distinct_members_total"]
    average = insights["average_distinct_members_per_partnership"]
    in_all = insights["members_in_all_reviews"]
    with_one = insights["partnerships_with_member_in_all_reviews"]
    with_three = insights["partnerships_with_3plus_members_in_all_reviews"]
    returned = insights["cases_returned_within_criteria"]
    return [
        SummaryFigure(
            "distinct_members_total",
            "Different people who have been partnership members",
            total,
            f"{count_words(total, 'person', 'people')} have been partnership members{since}"
            " (workers and LTO representatives not counted).",
        ),
        SummaryFigure(
            "average_distinct_members_per_partnership",
            "Different members per partnership, on average",
            average,
            f"On average, {average:,.1f} different people per partnership.",
        ),
        SummaryFigure(
            "members_in_all_reviews",
            f"Members in {all_reviews}",
            in_all,
            f"{count_words(in_all, 'member', 'members')} appeared in {all_reviews}.",
        ),
        SummaryFigure(
            "partnerships_with_member_in_all_reviews",
            f"Partnerships with a member in {all_reviews}",
            with_one,
            f"In {count_words(with_one, 'partnership')}, at least one member appeared in"
            f" {all_reviews}.",
        ),
        SummaryFigure(
            "partnerships_with_3plus_members_in_all_reviews",
            f"Partnerships with three or more members in {all_reviews}",
            with_three,
            f"{count_words(with_three, 'partnership')}"
            f" {'has' if with_three == 1 else 'have'} at least three members who appeared in"
            f" {all_reviews}.",
        ),
        SummaryFigure(
            "cases_returned_within_criteria",
            "Cases that returned within criteria",
            returned,
            f"{count_words(returned, 'case')} came back within criteria after follow-up.",
        ),
    ]


def month_label(month: str) -> str:
    """'2021-10' → 'Oct 2021'."""
    year, _, number = month.partition("-")
    return date(int(year), int(number), 1).strftime("%b %Y")


def fill_months(rows: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Every month from the first to the last given ('YYYY-MM'), with 0 where none is given."""
    if not rows:
        return []
    counts = dict(rows)
    first, last = min(counts), max(counts)
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while True:
        key = f"{year:04d}-{month:02d}"
        out.append((key, int(counts.get(key, 0))))
        if key >= last:
            return out
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


CHART_NAMES = ("members", "new-members", "areas", "returns")


def _yearly_chart(name: str, title: str, insights: Mapping[str, Any], keys: Sequence[str]) -> Chart:
    years = list(insights["review_years"])
    labels = {s.key: s.label for s in YEARLY}
    return Chart(
        name=name,
        title=title,
        x_title="Review year",
        x_labels=tuple(str(y) for y in years),
        series=tuple(
            (labels[key], tuple(int(insights[key].get(y, 0)) for y in years)) for key in keys
        ),
    )


def _new_members_chart(insights: Mapping[str, Any]) -> Chart:
    """New members by year. In the first review year everyone is new: that bar would dwarf the
    rest, so the chart starts a year later and says so (the table keeps the first year)."""
    full = _yearly_chart(
        "new-members", "New members by review year", insights, ["new_members_by_year"]
    )
    if len(full.x_labels) < 2:
        return full
    first, count = full.x_labels[0], full.series[0][1][0]
    if count != insights["members_by_year"].get(int(first), 0):
        return full  # a range starting later: its first year is not "everyone new"
    return Chart(
        name=full.name,
        title=full.title,
        x_title=full.x_title,
        x_labels=full.x_labels,
        series=full.series,
        left_out=(
            f"{first}, the first review year, is left out of the chart: all its "
            f"{count:,} members were new then. The table gives it."
        ),
    )


def _quarter_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """Of month labels ('Oct 2021'), the first months of quarters; every one for a short span."""
    if len(labels) <= 12:
        return tuple(labels)
    quarterly = tuple(m for m in labels if m[:3] in ("Jan", "Apr", "Jul", "Oct"))
    if len(quarterly) > 16:  # years of months: label each January only
        return tuple(m for m in labels if m.startswith("Jan"))
    return quarterly


def chart(name: str, insights: Mapping[str, Any], returns: Sequence[tuple[str, int]]) -> Chart:
    """The chart called `name` (one of CHART_NAMES); KeyError for any other name."""
    if name == "members":
        return _yearly_chart(name, "Counted members by review year", insights, ["members_by_year"])
    if name == "new-members":
        return _new_members_chart(insights)
    if name == "areas":
        return _yearly_chart(
            name,
            "Areas under criteria and at threshold by review year",
            insights,
            ["areas_under_criteria_by_year", "areas_at_threshold_by_year"],
        )
    if name == "returns":
        months = fill_months(returns)
        return Chart(
            name=name,
            title="Cases returned within criteria by month",
            x_title="Month",
            x_labels=tuple(month_label(m) for m, _n in months),
            series=(("Cases returned within criteria", tuple(n for _m, n in months)),),
            sparse=True,
            axis_labels=_quarter_labels([month_label(m) for m, _n in months]),
        )
    raise KeyError(name)


def charts(insights: Mapping[str, Any], returns: Sequence[tuple[str, int]]) -> list[Chart]:
    return [chart(name, insights, returns) for name in CHART_NAMES]


def long_rows(
    insights: Mapping[str, Any], returns: Sequence[tuple[str, int]]
) -> list[tuple[str, str, int | float]]:
    """The insights as tidy (table, key, value) rows: the CSV export.

    Tables: `summary` (one row per figure over all years), `members_by_year`,
    `new_members_by_year`, `areas_under_criteria_by_year`, `areas_at_threshold_by_year` (one row
    per review year, so the review years are their keys) and `returns_by_month` (YYYY-MM)."""
    rows: list[tuple[str, str, int | float]] = [
        ("summary", figure.key, figure.value) for figure in summary_figures(insights)
    ]
    for series in YEARLY:
        for year in insights["review_years"]:
            rows.append((series.key, str(year), int(insights[series.key].get(year, 0))))
    rows += [("returns_by_month", month, int(n)) for month, n in returns]
    return rows
