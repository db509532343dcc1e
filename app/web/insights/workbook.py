"""The insights as an Excel workbook (openpyxl): one sheet per table."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from app.web.exports import safe_cell
from app.web.insights.presentation import YEARLY, summary_figures

SHEETS = ("Summary", "Members by year", "New members by year", "Areas by year", "Returns by month")


def _sheet(wb: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[object]]):
    ws = wb.create_sheet(title)
    ws.append([safe_cell(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    for i, _ in enumerate(header):
        letter = ws.cell(row=1, column=i + 1).column_letter
        width = max(len(str(c.value or "")) for c in ws[letter])
        ws.column_dimensions[letter].width = min(70, max(12, width + 2))
    ws.freeze_panes = "A2"
    return ws


def xlsx_bytes(
    insights: Mapping[str, Any], returns: Sequence[tuple[str, int]], *, areas: str
) -> bytes:
    """The workbook's bytes: Summary, Members by year, New members by year, Areas by year,
    Returns by month. Text cells are neutralised against formula injection."""
    wb = Workbook()
    wb.remove(wb.active)
    years = list(insights["review_years"])
    summary: list[Sequence[object]] = [
        ("Areas", areas),
        ("Review years", ", ".join(str(y) for y in years) or "none"),
    ]
    summary += [(f.label, f.value) for f in summary_figures(insights)]
    _sheet(wb, SHEETS[0], ("Figure", "Value"), summary)
    members, new = YEARLY[0], YEARLY[1]
    _sheet(
        wb,
        SHEETS[1],
        ("Review year", members.label),
        [(y, insights[members.key].get(y, 0)) for y in years],
    )
    _sheet(
        wb, SHEETS[2], ("Review year", new.label), [(y, insights[new.key].get(y, 0)) for y in years]
    )
    under, threshold = YEARLY[2], YEARLY[3]
    _sheet(
        wb,
        SHEETS[3],
        ("Review year", under.label, threshold.label),
        [(y, insights[under.key].get(y, 0), insights[threshold.key].get(y, 0)) for y in years],
    )
    _sheet(wb, SHEETS[4], ("Month", "Cases returned within criteria"), list(returns))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
