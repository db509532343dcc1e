"""Casework: apply the case rules to new snapshots and write every change as an event."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Area, Case, CaseEvent, Snapshot
from app.operations.mail_cancel import cancel_for_case
from app.operations.rows import table_of
from app.rules.calendar import day_words
from app.rules.cases import Decision, OpenCaseState, Outcome, decide
from app.rules.criteria import Evaluation
from app.rules.vocabulary import (
    FLAG_WORDS,
    OPEN_STATUSES,
    PASSIVE_EVENT_KINDS,
    REASON_WORDS,
    CaseStatus,
    EventKind,
    SnapshotKind,
)

if TYPE_CHECKING:
    from app.operations.snapshots import NewSnapshot

# A stored snapshot, or one being inserted in bulk (the rules read the same fields of both).
AnySnapshot: TypeAlias = "Snapshot | NewSnapshot"

log = logging.getLogger(__name__)


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


def last_case_for(area_id: int) -> Case | None:
    return db.session.scalar(
        select(Case).where(Case.area_id == area_id).order_by(Case.id.desc()).limit(1)
    )


def apply_snapshots(
    area: Area,
    snapshots: Iterable[AnySnapshot],
    *,
    latest_before: tuple[date, int] | None,
    now: datetime,
    actor_id: int | None = None,
    open_case: Case | None = None,
    last_case: Case | None = None,
    cases_loaded: bool = False,
) -> CaseTally:
    """Run the case rules for an area's new or changed snapshots, in effective-date order.

    `latest_before` is the order key of the area's latest snapshot before these; a snapshot
    dated before it is kept but changes no case. The caller passes the area's open case and
    its latest case with `cases_loaded=True`, or they are loaded here.
    """
    tally = CaseTally()
    ordered = sorted(snapshots, key=order_key)
    if not ordered:
        return tally
    if not cases_loaded:
        open_case, last_case = open_case_for(area.id), last_case_for(area.id)
    latest = latest_before
    for snapshot in ordered:
        key = order_key(snapshot)
        if latest is not None and key < latest:
            continue  # an older snapshot: history for insights, no effect on cases
        latest = key
        case = _apply_one(area, snapshot, open_case, last_case, now, actor_id, tally)
        if case is not None:
            last_case = case
            open_case = case if case.status in OPEN_STATUSES else None
        _set_current(area, snapshot)
    return tally


def _set_current(area: Area, snapshot: AnySnapshot) -> None:
    area.current_snapshot_on = snapshot.effective_on
    area.current_members = snapshot.members
    area.current_residents = snapshot.residents
    area.current_flag = snapshot.flag
    area.current_reasons = list(snapshot.reasons or ())


def _apply_one(
    area: Area,
    snapshot: AnySnapshot,
    open_case: Case | None,
    last_case: Case | None,
    now: datetime,
    actor_id: int | None,
    tally: CaseTally,
) -> Case | None:
    evaluation = evaluation_of(snapshot)
    state = None
    if open_case is not None:
        state = OpenCaseState(open_case.flag, open_case.returned_on is not None)
    decision = decide(state, evaluation.flag)
    where = snapshot_label(snapshot)
    data = {
        "snapshot_id": snapshot.id,
        "members": evaluation.members,
        "residents": evaluation.residents,
        "reasons": list(evaluation.reasons),
    }
    if decision.outcome is Outcome.NOTHING:
        return None
    if decision.outcome is Outcome.OPEN:
        return _open_case(area, snapshot, decision.flag, last_case, now, actor_id, tally, data)

    case = open_case
    assert case is not None
    if case.id is not None:
        tally.case_ids.add(case.id)

    def event(kind: str, message: str) -> None:
        record_event(case, kind, message, now=now, actor_id=actor_id, data=data)

    def logged(what: str) -> None:
        log.info("case %s (area %s) %s: snapshot %s", case.id, area.code, what, snapshot.id)

    if decision.set_returned:
        case.returned_on = snapshot.effective_on
        tally.returned += 1
        logged("returned within criteria")
        event(EventKind.RETURNED, f"Returned within criteria in {where}: {describe(evaluation)}.")
    _follow_decision(case, decision, snapshot, now, tally, event, logged)
    return case


def _follow_decision(
    case: Case,
    decision: Decision,
    snapshot: AnySnapshot,
    now: datetime,
    tally: CaseTally,
    event: Callable[[str, str], None],
    logged: Callable[[str], None],
) -> None:
    """What an open case does with the rules' decision for a new snapshot."""
    shows = f"{snapshot_label(snapshot)} shows the partnership {describe(evaluation_of(snapshot))}"
    if decision.outcome is Outcome.RESOLVE:
        case.status = CaseStatus.RESOLVED
        case.resolved_on = snapshot.effective_on
        tally.resolved += 1
        if case.id is not None:
            cancel_for_case(case.id, "the case is resolved", now)
        logged(EventKind.RESOLVED)
        event(EventKind.RESOLVED, f"Resolved: {shows}.")
    elif decision.outcome is Outcome.ESCALATE:
        assert decision.flag is not None  # an escalation always carries the flag
        case.flag = decision.flag
        case.escalated_count += 1
        case.last_escalated_on = snapshot.effective_on
        tally.escalated += 1
        logged(EventKind.ESCALATED)
        event(EventKind.ESCALATED, f"Escalated: {shows}.")
    elif decision.outcome is Outcome.RETURN:
        assert decision.flag is not None  # a return always carries the flag
        if case.flag != decision.flag:
            case.flag = decision.flag
            event(
                EventKind.FLAG_CHANGED,
                "Flag is now at threshold: the case stays open for close work at eight members.",
            )
    else:  # same flag, new figures
        evaluation = evaluation_of(snapshot)
        event(
            EventKind.EVALUATED,
            f"Membership in {snapshot_label(snapshot)}: {describe(evaluation)}.",
        )


def _open_case(
    area: Area,
    snapshot: AnySnapshot,
    flag: str | None,
    last_case: Case | None,
    now: datetime,
    actor_id: int | None,
    tally: CaseTally,
    data: dict[str, Any],
) -> Case:
    assert flag is not None
    case = Case(
        area=area,
        flag=flag,
        status=CaseStatus.NEW,
        rep_id=area.rep_id,
        opened_on=snapshot.effective_on,
        previous_case=last_case,
        opened_snapshot_id=snapshot.id,
        created_at=now,
        last_activity_at=now,
        escalated_count=0,
    )
    db.session.add(case)
    db.session.flush()  # the case's id, for the log line and the events
    tally.opened += 1
    log.info(
        "case opened for area %s (%s): case %s, snapshot %s", area.code, flag, case.id, snapshot.id
    )
    evaluation = evaluation_of(snapshot)
    follows = f" It follows case #{last_case.id}." if last_case is not None and last_case.id else ""
    record_event(
        case,
        EventKind.OPENED,
        f"Case opened after {snapshot_label(snapshot)}: {describe(evaluation)}.{follows}",
        now=now,
        actor_id=actor_id,
        data=data,
    )
    if area.rep_id is not None:
        record_event(
            case,
            EventKind.ASSIGNED,
            f"Assigned to {area.rep.name if area.rep else 'the area rep'}.",
            now=now,
            actor_id=actor_id,
            data={"rep_id": area.rep_id},
        )
    return case


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
