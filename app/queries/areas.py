"""The areas list and an area's page: a fixed number of queries whatever the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from math import ceil
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, case, func, or_, select, union
from sqlalchemy.orm import aliased, joinedload

from app.extensions import db
from app.models import Area, AuditEntry, Case, Contact, Snapshot, User
from app.operations.text import parse_count
from app.queries import freshness
from app.rules.vocabulary import (
    CONTACT_EVENT_KINDS,
    FLAG_WORDS,
    FLAGS,
    OPEN_STATUSES,
    Flag,
    SnapshotKind,
)

PER_PAGE = 50
AREA_FLAGS = {
    Flag.UNDER_CRITERIA: FLAG_WORDS[Flag.UNDER_CRITERIA],
    Flag.AT_THRESHOLD: "At threshold",
    "within": "Within criteria",
    "no_data": "No membership figures yet",
}
# Sortable columns of the areas list; a sort is a column, or '-' and a column for descending.
AREA_SORT_COLUMNS = {
    "code": "Area",
    "rep": "Rep",
    "members": "Members / residents",
    "flag": "Current evaluation",
    "as_of": "As of",
}
AREA_SORTS = {
    "code": "Area code, A to Z",
    "-code": "Area code, Z to A",
    "name": "Area name, A to Z",
    "-name": "Area name, Z to A",
    "flag": "Most concerning first",
    "-flag": "Least concerning first",
    "members": "Fewest members first",
    "-members": "Most members first",
    "rep": "Rep, A to Z",
    "-rep": "Rep, Z to A",
    "as_of": "Oldest figures first",
    "-as_of": "Newest figures first",
}


@dataclass(frozen=True)
class AreaFilters:
    """Filters of the areas list; `rep` is a user id, 'none' (no rep) or None (any)."""

    flag: str | None = None
    rep: str | None = None
    q: str | None = None
    sort: str = "code"

    @classmethod
    def from_args(cls, args) -> tuple[AreaFilters, list[tuple[str, str]]]:
        """Parse query-string arguments; bad values are dropped and named as (field, error)."""
        errors: list[tuple[str, str]] = []
        flag = (args.get("flag") or "").strip() or None
        if flag is not None and flag not in AREA_FLAGS:
            errors.append(("flag", f"Flag: '{flag}' is not one of the choices."))
            flag = None
        rep = (args.get("rep") or "").strip() or None
        if rep is not None and rep != "none" and parse_count(rep) is None:
            errors.append(("rep", f"Rep: '{rep}' is not one of the choices."))
            rep = None
        q = (args.get("q") or "").strip() or None
        sort = (args.get("sort") or "code").strip()
        if sort not in AREA_SORTS:
            sort = "code"
        return cls(flag=flag, rep=rep, q=q, sort=sort), errors

    def to_args(self, **changes: object) -> dict[str, str]:
        values = {"flag": self.flag, "rep": self.rep, "q": self.q, "sort": self.sort}
        values.update(changes)  # type: ignore[arg-type]
        return {
            k: str(v)
            for k, v in values.items()
            if v not in (None, "") and (k, v) != ("sort", "code")
        }


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    rep_id: int | None
    rep_name: str | None
    members: int | None
    residents: int | None
    flag: str | None
    reasons: tuple[str, ...]
    as_of: date | None
    open_case_id: int | None
    open_case_status: str | None


def areas_seen_by_rep(rep_id: int) -> CompoundSelect:
    """The ids of the areas a rep sees: those they are the rep of and the area of every case
    assigned to them (a case assigned from the unassigned queue leaves the area's own rep
    unchanged). Each side is found by its rep_id index, once."""
    assigned_case = aliased(Case)
    own = aliased(Area)
    return union(
        select(own.id).where(own.rep_id == rep_id),
        select(assigned_case.area_id).where(assigned_case.rep_id == rep_id),
    )


def seen_by_rep(rep_id: int):
    """Areas a rep sees (`areas_seen_by_rep`), as one uncorrelated IN: the areas are then read
    by id. (An OR of the two sides would have PostgreSQL read every area to test it.)"""
    return Area.id.in_(areas_seen_by_rep(rep_id))


def _filtered(query: Select, f: AreaFilters, viewer: User) -> Select:
    if not viewer.is_programme:
        query = query.where(seen_by_rep(viewer.id))
    if f.flag in FLAGS:
        query = query.where(Area.current_flag == f.flag)
    elif f.flag == "within":
        query = query.where(Area.current_flag.is_(None), Area.current_snapshot_on.is_not(None))
    elif f.flag == "no_data":
        query = query.where(Area.current_snapshot_on.is_(None))
    if f.rep == "none":
        query = query.where(Area.rep_id.is_(None))
    elif f.rep is not None:
        query = query.where(Area.rep_id == int(f.rep))
    if f.q:
        query = query.where(or_(Area.code.ilike(f"%{f.q}%"), Area.name.ilike(f"%{f.q}%")))
    return query


def _area_sort_key(column: str):
    if column == "flag":
        return case(
            (Area.current_flag == Flag.UNDER_CRITERIA, 0),
            (Area.current_flag == Flag.AT_THRESHOLD, 1),
            (Area.current_snapshot_on.is_(None), 3),
            else_=2,
        )
    return {
        "code": Area.code,
        "name": Area.name,
        "members": Area.current_members,
        "rep": User.name,
        "as_of": Area.current_snapshot_on,
    }[column]


def _ordered(query: Select, sort: str) -> Select:
    """Order by the chosen sort, empty values last either way; ties by members (for the flag)
    and area code, so the order is stable across pages."""
    column = sort.removeprefix("-")
    key = _area_sort_key(column)
    direction = key.desc() if sort.startswith("-") else key.asc()
    ties = [Area.current_members, Area.code] if column == "flag" else [Area.code]
    if column == "code":
        return query.order_by(direction)
    if column in ("members", "rep", "as_of"):
        return query.order_by(case((key.is_(None), 1), else_=0), direction, *ties)
    return query.order_by(direction, *ties)


def area_page(
    f: AreaFilters, viewer: User, page: int = 1, per_page: int = PER_PAGE
) -> tuple[list[AreaRow], int, int]:
    """One page of the areas `viewer` may see: (rows, total, page shown). Two queries; the
    total, which counts every matching area, is kept per data version (a new area, a new
    review, a rep change each record one) so a repeat view reads only its page."""
    total = freshness.cached(
        "areas total",
        (f.flag, f.rep, f.q, None if viewer.is_programme else viewer.id),
        lambda: db.session.scalar(_filtered(select(func.count(Area.id)), f, viewer)) or 0,
    )
    page = min(max(1, page), max(1, ceil(total / per_page)))
    query = (
        select(
            Area.code,
            Area.name,
            Area.rep_id,
            User.name,
            Area.current_members,
            Area.current_residents,
            Area.current_flag,
            Area.current_reasons,
            Area.current_snapshot_on,
            Case.id,
            Case.status,
        )
        .select_from(Area)
        .outerjoin(User, Area.rep_id == User.id)
        .outerjoin(Case, and_(Case.area_id == Area.id, Case.status.in_(OPEN_STATUSES)))
    )
    paged: Select[Any] = _ordered(_filtered(query, f, viewer), f.sort)
    paged = paged.limit(per_page).offset((page - 1) * per_page)
    rows = [
        AreaRow(
            code=code,
            name=name,
            rep_id=rep_id,
            rep_name=rep_name,
            members=members,
            residents=residents,
            flag=flag,
            reasons=tuple(reasons or ()),
            as_of=as_of,
            open_case_id=case_id,
            open_case_status=case_status,
        )
        for (
            code,
            name,
            rep_id,
            rep_name,
            members,
            residents,
            flag,
            reasons,
            as_of,
            case_id,
            case_status,
        ) in db.session.execute(paged)  # fmt: skip
    ]
    return rows, total, page


@dataclass(frozen=True)
class AreaDetail:
    area: Area
    snapshots: list[Snapshot]  # newest first
    cases: list[Case]  # newest first, with their reps loaded
    contacts: list[Contact]
    contact_changes: list[AuditEntry]  # bounces, new addresses, opt-outs and back, newest first


CONTACT_HISTORY_LIMIT = 50


def contact_changes(contact_ids: list[int], limit: int = CONTACT_HISTORY_LIMIT) -> list[AuditEntry]:
    """The audit entries of these contacts' address and consent changes, newest first, with
    their actors (one query)."""
    if not contact_ids:
        return []
    return list(
        db.session.scalars(
            select(AuditEntry)
            .options(joinedload(AuditEntry.actor))
            .where(
                AuditEntry.target_type == "contact",
                AuditEntry.target_id.in_(contact_ids),
                AuditEntry.action.in_(CONTACT_EVENT_KINDS),
            )
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


def area_history(area_id: int) -> list[Snapshot]:
    """The area's snapshots, newest first (an in-year update before a review on the same day)."""
    return list(
        db.session.scalars(
            select(Snapshot)
            .where(Snapshot.area_id == area_id)
            .order_by(
                Snapshot.effective_on.desc(),
                case((Snapshot.kind == SnapshotKind.UPDATE, 0), else_=1),
                Snapshot.id.desc(),
            )
        )
    )


def area_detail(area: Area) -> AreaDetail:
    """What the area page shows: four queries (snapshots, cases with reps, contacts, their
    changes)."""
    cases = list(
        db.session.scalars(
            select(Case)
            .options(joinedload(Case.rep))
            .where(Case.area_id == area.id)
            .order_by(Case.opened_on.desc(), Case.id.desc())
        )
    )
    contacts = list(
        db.session.scalars(select(Contact).where(Contact.area_id == area.id).order_by(Contact.id))
    )
    changes = contact_changes([c.id for c in contacts])
    return AreaDetail(area, area_history(area.id), cases, contacts, changes)
