"""Programme insights (docs/insights.md): the page, its SVG charts and its CSV / XLSX exports.

Every view reads the same `programme_insights()` for the same area selection (all areas, a
rep's areas or the areas of a region's reps), so the page, charts and exports agree."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort, render_template, request

from app.operations.text import parse_count
from app.queries import freshness
from app.queries.case_list import region_choices, rep_choices
from app.queries.insights import (
    area_ids_for,
    programme_insights,
    returns_by_month,
    review_years,
)
from app.web.access import programme_required
from app.web.charts import SVG_CSP, render_svg
from app.web.exports import csv_response
from app.web.insights import bp
from app.web.insights.presentation import (
    CHART_NAMES,
    chart,
    charts,
    long_rows,
    summary_figures,
    year_figures,
)


@dataclass
class Selection:
    """The areas the figures are for, from the query string (bad values dropped, named)."""

    rep_id: int | None = None
    region: str | None = None
    year: int | None = None
    first_year: int | None = None  # the range of review years the figures cover
    last_year: int | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field id, message)
    reps: list[tuple[int, str]] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    area_ids: list[int] | None = None

    @property
    def args(self) -> dict[str, str]:
        """Query-string arguments of the area selection (for charts and exports)."""
        args = {}
        if self.rep_id is not None:
            args["rep_id"] = str(self.rep_id)
        if self.region:
            args["region"] = self.region
        if self.first_year is not None:
            args["from"] = str(self.first_year)
        if self.last_year is not None:
            args["to"] = str(self.last_year)
        return args

    def insights(self) -> dict[str, Any]:
        """The figures, computed once per data version for this selection (the page and its
        four charts ask for the same figures; a recorded change computes them afresh)."""
        figures = freshness.cached(
            "insights",
            self._key(),
            lambda: programme_insights(self.area_ids, self.first_year, self.last_year),
        )
        return copy.deepcopy(figures)  # a caller may not change what the next one reads

    def returns(self) -> list[tuple[str, int]]:
        return list(
            freshness.cached(
                "insights returns",
                self._key(),
                lambda: returns_by_month(self.area_ids, self.first_year, self.last_year),
            )
        )

    def all_years(self) -> list[int]:
        """Every review year of the selected areas (the year picker), once per data version."""
        areas = None if self.area_ids is None else tuple(self.area_ids)
        return list(freshness.cached("insights years", areas, lambda: review_years(self.area_ids)))

    def _key(self) -> tuple:
        areas = None if self.area_ids is None else tuple(self.area_ids)
        return (areas, self.first_year, self.last_year)

    @property
    def description(self) -> str:
        if self.area_ids is None:
            return "all areas in the programme"
        parts = []
        if self.rep_id is not None:
            parts.append(f"assigned to {dict(self.reps).get(self.rep_id, 'that rep')}")
        if self.region:
            parts.append(f"whose rep works in {self.region}")
        n = len(self.area_ids)
        return f"the {n:,} {'area' if n == 1 else 'areas'} " + " and ".join(parts)


def _year(raw: str) -> int | None:
    """A four-digit review year, or None."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) == 4 else None


def _selection(with_choices: bool = True) -> Selection:
    """The areas and years the query string chooses; what it names wrongly is an error and is
    left out."""
    sel = Selection()
    _choose_rep_and_region(sel, with_choices)
    _choose_years(sel)
    sel.area_ids = area_ids_for(rep_id=sel.rep_id, region=sel.region)
    return sel


def _choose_rep_and_region(sel: Selection, with_choices: bool) -> None:
    raw_rep = (request.args.get("rep_id") or "").strip()
    raw_region = (request.args.get("region") or "").strip()
    if with_choices or raw_rep:
        sel.reps = rep_choices()
    if with_choices or raw_region:
        sel.regions = region_choices()
    if raw_rep:
        if parse_count(raw_rep) in dict(sel.reps):
            sel.rep_id = parse_count(raw_rep)
        else:
            sel.errors.append(("rep_id", "Choose a rep from the list."))
    if raw_region:
        if raw_region in sel.regions:
            sel.region = raw_region
        else:
            sel.errors.append(("region", "Choose a region from the list."))


def _choose_years(sel: Selection) -> None:
    from_list = "review year from the list."
    choices = (
        ("year", request.args.get("year"), "year", "Choose a review year from the list."),
        ("from", request.args.get("from"), "first_year", f"Choose the first {from_list}"),
        ("to", request.args.get("to"), "last_year", f"Choose the last {from_list}"),
    )
    for key, value, attr, message in choices:
        raw = (value or "").strip()
        if raw and _year(raw) is None:
            sel.errors.append((key, message))
        elif raw:
            setattr(sel, attr, _year(raw))
    if sel.first_year and sel.last_year and sel.first_year > sel.last_year:
        sel.errors.append(("from", "The first review year must not be after the last."))
        sel.first_year = sel.last_year = None


@bp.get("/insights")
@programme_required
def index():
    sel = _selection()
    insights = sel.insights()
    returns = sel.returns()
    years = list(insights["review_years"])
    all_years = sel.all_years()
    if sel.year is not None and sel.year not in years:
        sel.errors.append(("year", f"There is no {sel.year} review for these areas."))
        sel.year = None
    year = sel.year if sel.year is not None else (years[-1] if years else None)
    return render_template(
        "insights/index.html",
        sel=sel,
        insights=insights,
        years=years,
        all_years=all_years,
        year=year,
        year_figures=year_figures(insights, year) if year is not None else [],
        summary=summary_figures(insights),
        charts=charts(insights, returns),
    )


@bp.get("/insights/chart/<name>.svg")
@programme_required
def chart_svg(name: str):
    if name not in CHART_NAMES:
        abort(404)
    sel = _selection(with_choices=False)
    if name == "returns":
        insights: dict[str, Any] = {"review_years": []}
    else:
        insights = sel.insights()
    returns = sel.returns() if name == "returns" else []
    svg = render_svg(chart(name, insights, returns))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/insights.csv")
@programme_required
def export_csv():
    sel = _selection(with_choices=False)
    rows = long_rows(sel.insights(), sel.returns())
    return csv_response(("table", "key", "value"), rows, "insights.csv")


@bp.get("/insights.xlsx")
@programme_required
def export_xlsx():
    sel = _selection(with_choices=False)
    from app.web.insights.workbook import xlsx_bytes  # openpyxl loads only when asked

    body = xlsx_bytes(
        sel.insights(),
        sel.returns(),
        areas=sel.description,
    )
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="insights.xlsx"'},
    )
