"""The printable status sheet of a case ("Print for the partnership")."""

from __future__ import annotations

from flask import render_template

from app import clock
from app.queries.status_sheet import status_sheet
from app.web.access import case_or_404, login_required
from app.web.cases import bp


@bp.get("/cases/<int:case_id>/sheet")
@login_required
def sheet(case_id: int):
    case_or_404(case_id)
    return render_template(
        "cases/sheet.html",
        sheet=status_sheet(case_id, clock.now()),
    )
