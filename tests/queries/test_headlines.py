"""Dashboard headlines and open cases by flag per quarter, taken from the snapshots' history."""

from datetime import UTC, date, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.queries.headlines import headlines, open_by_flag_per_quarter, quarter_ends
from tests.factories import add_snapshot, make_area
from tests.querycount import count_queries

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_quarter_ends_count_back_from_the_current_quarter():
    assert quarter_ends(date(2026, 11, 25), 4) == [
        ("Q1 2026", date(2026, 3, 31)),
        ("Q2 2026", date(2026, 6, 30)),
        ("Q3 2026", date(2026, 9, 30)),
        ("Q4 2026 (so far)", date(2026, 11, 25)),
    ]
    assert quarter_ends(date(2027, 1, 2), 2) == [
        ("Q4 2026", date(2026, 12, 31)),
        ("Q1 2027 (so far)", date(2027, 1, 2)),
    ]


def _recovering_area():
    """Under criteria from Aug 2025, at eight from Feb 2026, within criteria from Aug 2026."""
    area = make_area()
    add_snapshot(area, 6, 4, on=date(2025, 8, 1), now=NOW)
    add_snapshot(area, 8, 5, on=date(2026, 2, 1), now=NOW)
    add_snapshot(area, 10, 7, on=date(2026, 8, 1), now=NOW)
    return area


def test_open_cases_by_flag_follow_each_quarters_snapshots(app):
    area = _recovering_area()
    still_under = make_area()
    add_snapshot(still_under, 5, 4, on=date(2026, 4, 15), now=NOW)
    db.session.commit()
    chart = open_by_flag_per_quarter(NOW, 7)
    assert chart.x_labels == (
        "Q2 2025",
        "Q3 2025",
        "Q4 2025",
        "Q1 2026",
        "Q2 2026",
        "Q3 2026",
        "Q4 2026 (so far)",
    )
    under, at_threshold = (values for _label, values in chart.series)
    assert under == (0, 1, 1, 0, 1, 1, 1)
    assert at_threshold == (0, 0, 0, 1, 1, 0, 0)
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    assert case.status == "resolved"


def test_headlines_compare_with_a_year_ago(app):
    _recovering_area()  # under a year ago, within criteria now; returned in Feb 2026
    newly_under = make_area()
    add_snapshot(newly_under, 9, 6, on=date(2025, 9, 1), now=NOW)
    add_snapshot(newly_under, 7, 6, on=date(2026, 10, 1), now=NOW)
    long_ago = make_area()
    add_snapshot(long_ago, 6, 4, on=date(2023, 8, 1), now=NOW)
    add_snapshot(long_ago, 8, 5, on=date(2024, 2, 1), now=NOW)  # returned over a year ago
    db.session.commit()
    h = headlines(NOW)
    assert h.year_ago == date(2025, 11, 25)
    assert (h.under_now, h.under_year_ago) == (1, 1)
    assert h.open_cases.count == 2  # newly_under and long_ago (at eight)
    assert h.returned_12_months.count == 1
    assert h.returned_12_months.filters.returned_from == date(2025, 11, 26)


def test_headlines_and_chart_take_a_fixed_number_of_queries(app):
    def queries():
        with count_queries() as counter:
            headlines(NOW)
            open_by_flag_per_quarter(NOW)
        return counter.count

    _recovering_area()
    db.session.commit()
    few = queries()
    for _ in range(15):
        _recovering_area()
    db.session.commit()
    assert queries() == few == 2
