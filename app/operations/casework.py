"""Casework: a case's events, and the words and order the case rules use for snapshots.

The case rules themselves are applied in one place, `app.operations.import_plan`, for an
import and for a membership update or the demo alike (`apply_snapshots`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Area, Case, CaseEvent, Snapshot
from app.operations.rows import table_of
from app.rules.calendar import day_words
from app.rules.criteria import Evaluation
from app.rules.vocabulary import (
    FLAG_WORDS,
    OPEN_STATUSES,
    PASSIVE_EVENT_KINDS,
    REASON_WORDS,
    SnapshotKind,
)

if TYPE_CHECKING:
    from app.operations.snapshots import NewSnapshot

# A stored snapshot, or one being inserted in bulk (the rules read the same fields of both).
AnySnapshot: TypeAlias = "Snapshot | NewSnapshot"


@dataclass
class CaseTally:
    """What the case rules did, for summaries."""

    opened: int = 0
    returned: int = 0
    resolved: int = 0
    escalated: int = 0
    case_ids: set[int] = field(default_factory=set)

    def add(self, other: CaseTally) -> None:
        self.opened += other.opened
        self.returned += other.returned
        self.resolved += other.resolved
        self.escalated += other.escalated
        self.case_ids |= other.case_ids


def order_key(snapshot: AnySnapshot) -> tuple[date, int]:
    """Effective-date order; an in-year update wins a tie with an annual review."""
    return (snapshot.effective_on, 1 if snapshot.kind == SnapshotKind.UPDATE else 0)


def record_event(
    case: Case,
    kind: str,
    message: str,
    *,
    now: datetime,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
    addition: bool = False,
) -> CaseEvent:
    """Add an event to the case's timeline (same transaction as the change it records).

    `addition`: the event only adds to the case (a note, an action, a contact): the case's
    activity time moves on without a new version, so it never conflicts with another user's
    change of the case, nor makes their open forms stale."""
    event = CaseEvent(
        case=case, kind=kind, message=message, actor_id=actor_id, created_at=now, data=data or {}
    )
    db.session.add(event)
    if kind not in PASSIVE_EVENT_KINDS and (
        case.last_activity_at is None or now > case.last_activity_at
    ):
        if addition:
            touch_activity(case, now)
        else:
            case.last_activity_at = now
    return event


def touch_activity(case: Case, now: datetime) -> None:
    """Move the case's last activity on to `now` (never back) with a plain UPDATE that leaves
    its version alone; the loaded case shows the new time without being marked changed."""
    table = table_of(Case)
    db.session.execute(
        update(table)
        .where(table.c.id == case.id)
        .where(or_(table.c.last_activity_at.is_(None), table.c.last_activity_at < now))
        .values(last_activity_at=now)
    )
    set_committed_value(case, "last_activity_at", now)


def describe(evaluation: Evaluation) -> str:
    """Plain words for an evaluation, e.g. 'under criteria: fewer than ... (6 members, 4 ...)'."""
    counts = f"{evaluation.members} members, {evaluation.residents} residents"
    if evaluation.flag is None:
        return f"within criteria ({counts})"
    words = FLAG_WORDS[evaluation.flag].lower()
    if evaluation.reasons:
        words += ": " + "; ".join(REASON_WORDS[r] for r in evaluation.reasons)
    return f"{words} ({counts})"


def snapshot_label(snapshot: AnySnapshot) -> str:
    if snapshot.kind == SnapshotKind.ANNUAL:
        return f"the {snapshot.review_year} annual review"
    return f"the membership update of {day_words(snapshot.effective_on)}"


def evaluation_of(snapshot: AnySnapshot) -> Evaluation:
    return Evaluation(
        snapshot.flag, tuple(snapshot.reasons or ()), snapshot.members, snapshot.residents
    )


def open_case_for(area_id: int) -> Case | None:
    return db.session.scalar(
        select(Case).where(Case.area_id == area_id, Case.status.in_(OPEN_STATUSES))
    )


def apply_snapshots(
    area: Area,
    snapshots: Iterable[AnySnapshot],
    *,
    latest_before: tuple[date, int] | None,
    now: datetime,
    actor_id: int | None = None,
) -> CaseTally:
    """Run the case rules for an area's new or changed snapshots, in effective-date order, in
    the caller's transaction.

    `latest_before` is the order key of the area's latest snapshot before these; a snapshot
    dated before it is kept but changes no case. The rules run once, in
    `app.operations.import_plan` (the planner an import uses), and its plan is written here.
    """
    # Imported here: the planner builds on this module's helpers.
    from app.operations.import_plan import apply_planned

    before = {area.id: latest_before} if latest_before is not None else {}
    return apply_planned(
        {area.id: area}, {area.id: list(snapshots)}, before, now=now, actor_id=actor_id
    )


def latest_keys(area_ids: Sequence[int]) -> dict[int, tuple[date, int]]:
    """The order key of each area's latest stored snapshot (one query)."""
    rows = db.session.execute(
        select(Snapshot.area_id, Snapshot.effective_on, Snapshot.kind).where(
            Snapshot.area_id.in_(area_ids)
        )
    )
    latest: dict[int, tuple[date, int]] = {}
    for area_id, effective_on, kind in rows:
        key = (effective_on, 1 if kind == SnapshotKind.UPDATE else 0)
        if area_id not in latest or key > latest[area_id]:
            latest[area_id] = key
    return latest
