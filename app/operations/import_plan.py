"""The case rules (docs/rules.md#cases), the one place they are applied: for an import, a
membership update from the web and the demo alike.

They run on plain drafts of the cases while only reading, with the ids of the new cases
reserved (`IdReserver`), so the write is a handful of bulk statements (`write_case_plan`):
on SQLite an import of 150,000 rows holds the write lock (and makes web writes wait) for
seconds, not for its whole run. A few snapshots in the caller's transaction (a membership
update, the demo, `casework.apply_snapshots`) are planned and written at once
(`apply_planned`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, func, or_, select, text, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Area, Case, CaseEvent, OutboxMessage, User
from app.operations.casework import (
    AnySnapshot,
    CaseTally,
    describe,
    evaluation_of,
    order_key,
    snapshot_label,
)
from app.operations.errors import UserError
from app.operations.mail_cancel import cancel_for_case
from app.operations.rows import table_of
from app.operations.versions import ConflictError
from app.rules.cases import Decision, OpenCaseState, Outcome, decide
from app.rules.vocabulary import (
    OPEN_STATUSES,
    PASSIVE_EVENT_KINDS,
    CaseStatus,
    EventKind,
    OutboxStatus,
)

log = logging.getLogger("app.operations.casework")  # the case rules' lines, as they always were

CHUNK = 900
RESOLVED_REASON = "the case is resolved"
# The columns of a stored case the rules change.
RULE_FIELDS = (
    "flag",
    "status",
    "returned_on",
    "resolved_on",
    "escalated_count",
    "last_escalated_on",
)
AREA_FIELDS = (
    "current_snapshot_on",
    "current_members",
    "current_residents",
    "current_flag",
    "current_reasons",
)


class ImportConflict(UserError):
    """A case changed between the import's check and its write; nothing was written."""


# --------------------------------------------------------------------------- ids


class IdReserver:
    """Row ids for rows not written yet. PostgreSQL hands them out from the table's sequence
    (safe against any other writer). SQLite gives the next ids after the largest stored;
    `snapshots.write_snapshots` checks, holding the write lock, that nothing was added since
    (or works the plan out again)."""

    BLOCK = 500

    def __init__(self, table: str, block: int = BLOCK) -> None:
        self.table = table
        self.block = block
        self.postgres = db.session.get_bind().dialect.name == "postgresql"
        self._next = 0
        self._left: list[int] = []
        if not self.postgres:
            largest = db.session.execute(text(f"SELECT max(id) FROM {table}")).scalar()  # noqa: S608
            self._next = int(largest or 0) + 1

    def take(self, count: int) -> list[int]:
        if not self.postgres:
            start, self._next = self._next, self._next + count
            return list(range(start, start + count))
        while len(self._left) < count:
            self._left.extend(self._from_sequence(max(self.block, count - len(self._left))))
        taken, self._left = self._left[:count], self._left[count:]
        return taken

    def one(self) -> int:
        return self.take(1)[0]

    def _from_sequence(self, count: int) -> list[int]:
        rows = db.session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id'))"
                " FROM generate_series(1, :count)"
            ),
            {"table": self.table, "count": count},
        )
        return sorted(row[0] for row in rows)


# --------------------------------------------------------------------------- rows


@dataclass
class DriverRows:
    """Rows of one INSERT for the driver's executemany, their values converted by the
    columns' types ahead (in the read-only step), so the write does only the inserting."""

    sql: str = ""
    rows: list[tuple] = field(default_factory=list)

    @classmethod
    def of(cls, table: Table, rows: list[dict[str, Any]]) -> DriverRows:
        if not rows:
            return cls()
        dialect = db.session.get_bind().dialect
        columns = list(rows[0])
        processors = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        ]
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)})"  # noqa: S608 - our own names
            f" VALUES ({', '.join([mark] * len(columns))})"
        )
        converted = [
            tuple(
                process(row[name]) if process else row[name]
                for name, process in zip(columns, processors, strict=True)
            )
            for row in rows
        ]
        return cls(sql, converted)

    def execute(self) -> None:
        connection = db.session.connection()
        for start in range(0, len(self.rows), 10000):
            connection.exec_driver_sql(self.sql, self.rows[start : start + 10000])


# --------------------------------------------------------------------------- drafts


@dataclass
class CaseDraft:
    """A case as the rules see and change it: a stored one (`stored` its ORM row) or new."""

    id: int
    area_id: int
    flag: str
    status: str
    rep_id: int | None
    opened_on: date
    returned_on: date | None = None
    resolved_on: date | None = None
    escalated_count: int = 0
    last_escalated_on: date | None = None
    last_activity_at: datetime | None = None
    previous_case_id: int | None = None
    opened_snapshot_id: int | None = None
    stored: Case | None = None
    changed: bool = False

    @classmethod
    def of(cls, stored: Case) -> CaseDraft:
        return cls(
            id=stored.id,
            area_id=stored.area_id,
            flag=stored.flag,
            status=stored.status,
            rep_id=stored.rep_id,
            opened_on=stored.opened_on,
            returned_on=stored.returned_on,
            resolved_on=stored.resolved_on,
            escalated_count=stored.escalated_count or 0,
            last_escalated_on=stored.last_escalated_on,
            last_activity_at=stored.last_activity_at,
            previous_case_id=stored.previous_case_id,
            opened_snapshot_id=stored.opened_snapshot_id,
            stored=stored,
        )


@dataclass
class CasePlan:
    """What the rules do for an import: rows to write, and the log lines and mail
    cancellations in the order the rules met them."""

    now: datetime
    actor_id: int | None
    tally: CaseTally = field(default_factory=CaseTally)
    new_cases: list[CaseDraft] = field(default_factory=list)
    stored_cases: dict[int, CaseDraft] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    areas: dict[int, tuple[Area, dict[str, Any]]] = field(default_factory=dict)
    # ("log", format, args) or ("cancel", case_id, reason), in the rules' order.
    steps: list[tuple[Any, ...]] = field(default_factory=list)
    # The new cases and the events as the INSERTs take them (`CasePlanner.finish`).
    case_rows: DriverRows = field(default_factory=DriverRows)
    event_rows: DriverRows = field(default_factory=DriverRows)


@dataclass
class AreaCases:
    """One area's cases as the rules run: its open case and its latest."""

    open: CaseDraft | None
    last: CaseDraft | None


class CasePlanner:
    """The case rules for many areas' new snapshots, on drafts: see the module's docstring."""

    def __init__(
        self,
        now: datetime,
        actor_id: int | None,
        case_ids: Callable[[], int],
        rep_names: dict[int, str],
    ) -> None:
        self.plan = CasePlan(now, actor_id)
        self.case_ids = case_ids
        self.rep_names = rep_names

    def area(
        self,
        area: Area,
        snapshots: Iterable[AnySnapshot],
        *,
        latest_before: tuple[date, int] | None,
        open_case: Case | None,
        last_case: Case | None,
    ) -> None:
        ordered = sorted(snapshots, key=order_key)
        if not ordered:
            return
        cases = AreaCases(self._draft(open_case), self._draft(last_case))
        latest = latest_before
        for snapshot in ordered:
            key = order_key(snapshot)
            if latest is not None and key < latest:
                continue  # an older snapshot: history for insights, no effect on cases
            latest = key
            changed = self._apply_one(area, snapshot, cases)
            if changed is not None:
                cases.last = changed
                cases.open = changed if changed.status in OPEN_STATUSES else None
            self.plan.areas[area.id] = (area, _current_of(snapshot))

    def finish(self) -> CasePlan:
        """The plan, its rows ready for the INSERTs."""
        plan = self.plan
        plan.case_rows = DriverRows.of(table_of(Case), _case_rows(plan.new_cases, plan.now))
        plan.event_rows = DriverRows.of(table_of(CaseEvent), plan.events)
        return plan

    def _draft(self, stored: Case | None) -> CaseDraft | None:
        if stored is None:
            return None
        draft = self.plan.stored_cases.get(stored.id)
        if draft is None:
            draft = self.plan.stored_cases[stored.id] = CaseDraft.of(stored)
        return draft

    def _apply_one(self, area: Area, snapshot: AnySnapshot, cases: AreaCases) -> CaseDraft | None:
        evaluation = evaluation_of(snapshot)
        open_case = cases.open
        state = None
        if open_case is not None:
            state = OpenCaseState(open_case.flag, open_case.returned_on is not None)
        decision = decide(state, evaluation.flag)
        data = {
            "snapshot_id": snapshot.id,
            "members": evaluation.members,
            "residents": evaluation.residents,
            "reasons": list(evaluation.reasons),
        }
        if decision.outcome is Outcome.NOTHING:
            return None
        if decision.outcome is Outcome.OPEN:
            return self._open_case(area, snapshot, decision.flag, cases.last, data)
        assert open_case is not None
        self.plan.tally.case_ids.add(open_case.id)
        if decision.set_returned:
            open_case.returned_on = snapshot.effective_on
            open_case.changed = True
            self.plan.tally.returned += 1
            self._logged(open_case, area, snapshot, "returned within criteria")
            self._event(
                open_case,
                EventKind.RETURNED,
                f"Returned within criteria in {snapshot_label(snapshot)}: {describe(evaluation)}.",
                data,
            )
        self._follow_decision(open_case, area, decision, snapshot, data)
        return open_case

    def _follow_decision(
        self,
        draft: CaseDraft,
        area: Area,
        decision: Decision,
        snapshot: AnySnapshot,
        data: dict[str, Any],
    ) -> None:
        """What an open case does with the rules' decision for a new snapshot."""
        plan = self.plan
        shows = (
            f"{snapshot_label(snapshot)} shows the partnership {describe(evaluation_of(snapshot))}"
        )
        if decision.outcome is Outcome.RESOLVE:
            draft.status, draft.resolved_on, draft.changed = (
                CaseStatus.RESOLVED,
                snapshot.effective_on,
                True,
            )
            plan.tally.resolved += 1
            plan.steps.append(("cancel", draft.id, RESOLVED_REASON))
            self._logged(draft, area, snapshot, EventKind.RESOLVED)
            self._event(draft, EventKind.RESOLVED, f"Resolved: {shows}.", data)
        elif decision.outcome is Outcome.ESCALATE:
            assert decision.flag is not None  # an escalation always carries the flag
            draft.flag, draft.changed = decision.flag, True
            draft.escalated_count += 1
            draft.last_escalated_on = snapshot.effective_on
            plan.tally.escalated += 1
            self._logged(draft, area, snapshot, EventKind.ESCALATED)
            self._event(draft, EventKind.ESCALATED, f"Escalated: {shows}.", data)
        elif decision.outcome is Outcome.RETURN:
            assert decision.flag is not None  # a return always carries the flag
            if draft.flag != decision.flag:
                draft.flag, draft.changed = decision.flag, True
                self._event(
                    draft,
                    EventKind.FLAG_CHANGED,
                    "Flag is now at threshold: the case stays open for close work at eight"
                    " members.",
                    data,
                )
        else:  # same flag, new figures
            self._event(
                draft,
                EventKind.EVALUATED,
                f"Membership in {snapshot_label(snapshot)}: {describe(evaluation_of(snapshot))}.",
                data,
            )

    def _open_case(
        self,
        area: Area,
        snapshot: AnySnapshot,
        flag: str | None,
        last_case: CaseDraft | None,
        data: dict[str, Any],
    ) -> CaseDraft:
        assert flag is not None
        plan = self.plan
        draft = CaseDraft(
            id=self.case_ids(),
            area_id=area.id,
            flag=flag,
            status=CaseStatus.NEW,
            rep_id=area.rep_id,
            opened_on=snapshot.effective_on,
            previous_case_id=last_case.id if last_case is not None else None,
            opened_snapshot_id=snapshot.id,
            last_activity_at=plan.now,
        )
        plan.new_cases.append(draft)
        plan.tally.opened += 1
        plan.steps.append(
            (
                "log",
                "case opened for area %s (%s): case %s, snapshot %s",
                (area.code, flag, draft.id, snapshot.id),
            )
        )
        evaluation = evaluation_of(snapshot)
        follows = f" It follows case #{last_case.id}." if last_case is not None else ""
        self._event(
            draft,
            EventKind.OPENED,
            f"Case opened after {snapshot_label(snapshot)}: {describe(evaluation)}.{follows}",
            data,
        )
        if area.rep_id is not None:
            self._event(
                draft,
                EventKind.ASSIGNED,
                f"Assigned to {self.rep_names.get(area.rep_id, 'the area rep')}.",
                {"rep_id": area.rep_id},
            )
        return draft

    def _event(self, draft: CaseDraft, kind: str, message: str, data: dict[str, Any]) -> None:
        """As `casework.record_event` does for an ORM case."""
        now = self.plan.now
        self.plan.events.append(
            {
                "case_id": draft.id,
                "kind": kind,
                "message": message,
                "actor_id": self.plan.actor_id,
                "created_at": now,
                "data": data,
            }
        )
        if kind not in PASSIVE_EVENT_KINDS and (
            draft.last_activity_at is None or now > draft.last_activity_at
        ):
            draft.last_activity_at = now
            draft.changed = True

    def _logged(self, draft: CaseDraft, area: Area, snapshot: AnySnapshot, what: str) -> None:
        self.plan.steps.append(
            (
                "log",
                "case %s (area %s) %s: snapshot %s",
                (draft.id, area.code, what, snapshot.id),
            )
        )


def _current_of(snapshot: AnySnapshot) -> dict[str, Any]:
    return {
        "current_snapshot_on": snapshot.effective_on,
        "current_members": snapshot.members,
        "current_residents": snapshot.residents,
        "current_flag": snapshot.flag,
        "current_reasons": list(snapshot.reasons or ()),
    }


def plan_cases(
    areas: Mapping[int, Area],
    changed: Mapping[int, Iterable[AnySnapshot]],
    latest_before: Mapping[int, tuple[date, int]],
    *,
    now: datetime,
    actor_id: int | None,
    case_ids: Callable[[], int],
) -> CasePlan:
    """The case rules for each area's new or changed snapshots (`changed`, by area id), on
    drafts of the areas' stored open and latest cases; `latest_before` the order key of each
    area's latest snapshot stored before these, `case_ids` the ids of new cases."""
    open_cases, last_cases = cases_by_area(list(changed))
    planner = CasePlanner(now, actor_id, case_ids, rep_names(areas.values()))
    for area_id, snapshots in changed.items():
        planner.area(
            areas[area_id],
            snapshots,
            latest_before=latest_before.get(area_id),
            open_case=open_cases.get(area_id),
            last_case=last_cases.get(area_id),
        )
    return planner.finish()


def apply_planned(
    areas: Mapping[int, Area],
    changed: Mapping[int, Iterable[AnySnapshot]],
    latest_before: Mapping[int, tuple[date, int]],
    *,
    now: datetime,
    actor_id: int | None,
) -> CaseTally:
    """The case rules for a few snapshots (a membership update, the demo), planned and written
    at once in the caller's transaction, which holds the write lock from here (SQLite: so the
    ids after the largest stored stay free). New cases take their ids from the sequence one
    by one (PostgreSQL), as an ORM insert would; a case changed by someone else since the
    caller loaded it is a ConflictError."""
    changed = {area_id: list(snapshots) for area_id, snapshots in changed.items()}
    if not any(changed.values()):
        return CaseTally()
    db.session.flush()  # the plan reads what the caller changed, and its cases' versions
    take_write_lock()
    plan = plan_cases(
        areas,
        changed,
        latest_before,
        now=now,
        actor_id=actor_id,
        case_ids=IdReserver("cases", block=1).one,
    )
    write_case_plan(plan, conflict=ConflictError())
    return plan.tally


def take_write_lock() -> None:
    """SQLite: begin the write now (a statement that changes nothing still takes the lock),
    so that the reads and the writes after it see no other writer."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("UPDATE snapshots SET id = id WHERE 1 = 0"))


def cases_by_area(area_ids: list[int]) -> tuple[dict[int, Case], dict[int, Case]]:
    """Each area's open case and its latest case, loaded in a few queries."""
    open_cases: dict[int, Case] = {}
    last_cases: dict[int, Case] = {}
    for batch in _chunks(area_ids):
        for stored in db.session.scalars(
            select(Case).where(Case.area_id.in_(batch)).order_by(Case.id)
        ):
            last_cases[stored.area_id] = stored
            if stored.status in OPEN_STATUSES:
                open_cases[stored.area_id] = stored
    return open_cases, last_cases


def rep_names(areas: Iterable[Area]) -> dict[int, str]:
    """The reps' names, for the 'Assigned to …' events of the cases an import opens."""
    ids = sorted({a.rep_id for a in areas if a.rep_id is not None})
    names: dict[int, str] = {}
    for batch in _chunks(ids):
        rows = db.session.execute(select(User.id, User.name).where(User.id.in_(batch)))
        names.update((user_id, name) for user_id, name in rows)
    return names


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --------------------------------------------------------------------------- the write


def write_case_plan(plan: CasePlan, *, conflict: UserError | None = None) -> None:
    """The plan's rows, in bulk: stored cases first (a resolved case leaves the area's one
    open-case slot to a case opened after it), then the new cases, their events and the
    areas' current figures; then the log lines and the mail cancellations, in order.
    `conflict` is raised if a stored case changed since it was read (an ImportConflict
    unless given)."""
    _update_stored_cases([d for d in plan.stored_cases.values() if d.changed], conflict)
    for draft in plan.stored_cases.values():
        if draft.stored is not None:  # its loaded timeline lacks the new events
            db.session.expire(draft.stored, ["events"])
    plan.case_rows.execute()
    plan.event_rows.execute()
    _update_areas(plan.areas)
    with_mail = _cases_with_queued_mail([step[1] for step in plan.steps if step[0] == "cancel"])
    for step in plan.steps:
        if step[0] == "log":
            log.info(step[1], *step[2])
        elif step[1] in with_mail:
            cancel_for_case(step[1], step[2], plan.now)


def _update_stored_cases(drafts: list[CaseDraft], conflict: UserError | None) -> None:
    if not drafts:
        return
    table = table_of(Case)
    activity = bindparam("b_activity", type_=table.c.last_activity_at.type)
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
        .values(
            {name: bindparam(f"b_{name}") for name in RULE_FIELDS}
            | {
                "version": table.c.version + 1,
                "last_activity_at": case(
                    (
                        or_(
                            table.c.last_activity_at.is_(None), table.c.last_activity_at < activity
                        ),
                        activity,
                    ),
                    else_=table.c.last_activity_at,
                ),
            }
        )
    )
    rows = []
    for draft in drafts:
        assert draft.stored is not None
        row = {f"b_{name}": getattr(draft, name) for name in RULE_FIELDS}
        row.update(b_id=draft.id, b_version=draft.stored.version, b_activity=draft.last_activity_at)
        rows.append(row)
    result = db.session.connection().execute(statement, rows)
    if result.rowcount >= 0 and result.rowcount != len(rows):
        raise conflict or ImportConflict(
            "A case of this file's areas was changed while the file was being imported;"
            " nothing was imported: run the import again."
        )
    for draft in drafts:
        stored = draft.stored
        assert stored is not None
        for name in RULE_FIELDS:
            set_committed_value(stored, name, getattr(draft, name))
        set_committed_value(stored, "version", stored.version + 1)
        if draft.last_activity_at is not None and (
            stored.last_activity_at is None or stored.last_activity_at < draft.last_activity_at
        ):
            set_committed_value(stored, "last_activity_at", draft.last_activity_at)


def _case_rows(drafts: list[CaseDraft], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": d.id,
            "area_id": d.area_id,
            "flag": d.flag,
            "status": d.status,
            "rep_id": d.rep_id,
            "opened_on": d.opened_on,
            "returned_on": d.returned_on,
            "resolved_on": d.resolved_on,
            "previous_case_id": d.previous_case_id,
            "opened_snapshot_id": d.opened_snapshot_id,
            "escalated_count": d.escalated_count,
            "last_escalated_on": d.last_escalated_on,
            "created_at": now,
            "last_activity_at": d.last_activity_at,
            "version": 1,
        }
        for d in drafts
    ]


def _update_areas(areas: dict[int, tuple[Area, dict[str, Any]]]) -> None:
    if not areas:
        return
    table = table_of(Area)
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}", type_=table.c[name].type) for name in AREA_FIELDS})
    )
    rows = [
        {"b_id": area_id} | {f"b_{name}": value for name, value in values.items()}
        for area_id, (_area, values) in areas.items()
    ]
    db.session.connection().execute(statement, rows)
    for area, values in areas.values():
        for name, value in values.items():
            set_committed_value(area, name, value)


def _cases_with_queued_mail(case_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for batch in _chunks(sorted(set(case_ids))):
        found.update(
            db.session.scalars(
                select(func.distinct(OutboxMessage.case_id)).where(
                    OutboxMessage.case_id.in_(batch), OutboxMessage.status == OutboxStatus.QUEUED
                )
            )
        )
    return found
