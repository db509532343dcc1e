"""Dates and times on every page come from the app-wide Jinja filters (Europe/London)."""

from datetime import UTC, date, datetime

from flask import render_template_string


def render(source: str, **values) -> str:
    return render_template_string(source, **values)


def test_london_filters_write_summer_moments_in_british_summer_time(app):
    moment = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London
    assert render("{{ m|london_date }}", m=moment) == "2 Jul 2026"
    assert render("{{ m|london_datetime }}", m=moment) == "2 Jul 2026, 00:30"
    assert render("{{ m|london_time }}", m=moment) == "00:30"
    assert render("{{ d|london_date }}", d=date(2026, 11, 5)) == "5 Nov 2026"


def test_a_missing_value_shows_what_the_page_asks_for(app):
    assert render("[{{ none|london_date }}]", none=None) == "[]"
    assert render('{{ none|london_date("—") }}', none=None) == "—"
    assert render('{{ none|london_datetime("never") }}', none=None) == "never"
    assert render('{{ none|london_time("—") }}', none=None) == "—"
