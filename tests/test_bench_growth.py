"""The bench's growth table and chart (bench/growth.py) from made-up points: every size and
database is a row, a query count that moves with the data is called out, and the chart is an
SVG drawn by pygal."""

from __future__ import annotations

from bench.growth import Growth, Point


def growth() -> Growth:
    made = Growth()
    for factor, cases, seconds, count in (
        (1, 1000, 1.0, 3),
        (10, 10000, 6.0, 3),
        (30, 30000, 17.0, 4),
    ):
        made.add(
            Point(
                "SQLite",
                factor,
                cases,
                {"import": seconds, "sweep": seconds / 2, "p95: My cases": 0.012},
                {"My cases": count},
            )
        )
    return made


def test_the_growth_table_has_a_row_per_size_and_names_a_moving_query_count():
    text = growth().markdown()
    rows = [line for line in text.splitlines() if line.startswith("| SQLite")]
    assert [row.split(" | ")[1] for row in rows] == ["1×", "10×", "30×"]
    assert "| 17.00 s |" in rows[2]
    assert "12 ms / 4" in rows[2]
    assert "the data grows ×30; the batch times grow import ×17.0, sweep ×17.0" in text
    assert "My cases CHANGES" in text


def test_the_growth_chart_is_an_svg(tmp_path):
    path = tmp_path / "growth.svg"
    growth().chart(path)
    svg = path.read_text(encoding="utf-8")
    assert "<svg" in svg and "import (SQLite), s" in svg and "My cases p95 (SQLite), ms" in svg


def test_the_chart_is_drawn_with_every_page_of_both_databases(tmp_path):
    """Two databases at three sizes with 13 pages each: a legend of 36 series, which once
    took the whole height of the chart and left pygal wrapping its axis title forever."""
    made = Growth()
    pages = [f"page {n}" for n in range(13)]
    for kind in ("SQLite", "PostgreSQL"):
        for factor in (1, 10, 30):
            figures = {name: factor * 0.5 for name in ("import", "re-import", "sweep", "send")}
            figures["insights"] = 0.6 + factor / 100
            figures.update({f"p95: {page}": 0.002 + factor / 10000 for page in pages})
            made.add(Point(kind, factor, factor * 1000, figures, dict.fromkeys(pages, 3)))
    path = tmp_path / "growth.svg"
    made.chart(path, timeout=30)
    svg = path.read_text(encoding="utf-8")
    assert "page 12 p95 (PostgreSQL), ms" in svg and "sweep (SQLite), s" in svg
