"""Charts that tell the truth: readable month labels, the first review year marked, and the
dashboard's quarterly chart with its table."""

import re

from app.web.charts import render_svg
from app.web.insights.presentation import chart


def _text(svg: str) -> list[str]:
    return [t.strip() for t in re.findall(r">([^<>]+)</text>", svg) if t.strip()]


def test_monthly_returns_label_one_month_a_quarter_in_full():
    months = [(f"{y}-{m:02d}", (y + m) % 3) for y in (2024, 2025) for m in range(1, 13)]
    months += [("2026-01", 1), ("2026-02", 2), ("2026-03", 0), ("2026-04", 1)]
    svg = render_svg(chart("returns", {"review_years": []}, months))
    labels = _text(svg)
    assert "…" not in svg
    for shown in ("Jan 2024", "Apr 2024", "Jul 2025", "Oct 2025", "Apr 2026"):
        assert shown in labels
    assert "Feb 2024" not in labels and "Nov 2025" not in labels


def _insights(new_by_year):
    years = sorted(new_by_year)
    return {
        "review_years": years,
        "members_by_year": {y: n if y == years[0] else n + 500 for y, n in new_by_year.items()},
        "new_members_by_year": new_by_year,
        "areas_under_criteria_by_year": {},
        "areas_at_threshold_by_year": {},
    }


def test_new_members_chart_leaves_out_the_first_year_and_says_so():
    c = chart("new-members", _insights({2015: 4000, 2016: 400, 2017: 390}), [])
    assert c.left_out and "2015" in c.left_out and "4,000" in c.left_out
    assert ("2015", (4000,)) in c.table_rows  # the table keeps it
    svg = render_svg(c)
    labels = _text(svg)
    assert "2015" not in labels and "4000" not in labels
    assert "2016" in labels and "2017" in labels


def test_a_single_review_year_is_not_left_out():
    c = chart("new-members", _insights({2015: 4000}), [])
    assert c.left_out is None
    assert "2015" in _text(render_svg(c))


def test_a_range_starting_later_keeps_its_first_year():
    insights = _insights({2018: 400, 2019: 390})
    insights["members_by_year"] = {2018: 1700, 2019: 1600}  # most were not new in 2018
    assert chart("new-members", insights, []).left_out is None


def test_dashboard_shows_headlines_and_the_quarterly_chart_with_its_table(app, client):
    from datetime import date

    from app.extensions import db
    from tests.factories import add_snapshot, make_area, make_user
    from tests.web.test_case_page import login_as

    area = make_area()
    add_snapshot(area, 6, 4, on=date(2026, 1, 10))
    programme = make_user("programme")
    db.session.commit()
    login_as(client, programme)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "areas under criteria now" not in page  # one area: singular
    assert "area under criteria now" in page
    assert 'href="/areas?flag=under_criteria">1</a>' in page
    assert "Cases open at the end of each quarter, by flag" in page
    assert 'src="/dashboard/chart/open-by-flag.svg"' in page
    table = page[page.index('id="table-open-by-flag"') :]
    assert "Q4 2025" in table
    svg = client.get("/dashboard/chart/open-by-flag.svg")
    assert svg.mimetype == "image/svg+xml" and "<script" not in svg.get_data(as_text=True)
    assert "default-src 'none'" in svg.headers["Content-Security-Policy"]
