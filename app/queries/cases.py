"""The case read-out for `flask cases list` (a stable JSON contract for scripts)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Area, Case, User

CASE_KEYS = (
    "id",
    "area_code",
    "flag",
    "status",
    "rep_email",
    "opened_on",
    "returned_on",
    "resolved_on",
    "reasons",
    "members",
    "residents",
    "previous_case_id",
)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def case_rows(
    *, status: str | None = None, flag: str | None = None, area: str | None = None
) -> list[dict[str, Any]]:
    """Cases with exactly CASE_KEYS, oldest first; one query."""
    rep = aliased(User)
    query = (
        select(Case, Area, rep.email)
        .join(Area, Case.area_id == Area.id)
        .outerjoin(rep, Case.rep_id == rep.id)
        .order_by(Case.opened_on, Case.id)
    )
    if status:
        query = query.where(Case.status == status)
    if flag:
        query = query.where(Case.flag == flag)
    if area:
        query = query.where(Area.code == area.strip().upper())
    rows = []
    for case, area_row, rep_email in db.session.execute(query):
        rows.append(
            {
                "id": case.id,
                "area_code": area_row.code,
                "flag": case.flag,
                "status": case.status,
                "rep_email": rep_email,
                "opened_on": _iso(case.opened_on),
                "returned_on": _iso(case.returned_on),
                "resolved_on": _iso(case.resolved_on),
                "reasons": list(area_row.current_reasons or []),
                "members": area_row.current_members,
                "residents": area_row.current_residents,
                "previous_case_id": case.previous_case_id,
            }
        )
    return rows
