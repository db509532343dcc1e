"""Storing membership snapshots in bulk and running the case rules for them (docs/rules.md#cases).

Imports, the demo loader and the web's membership update all come through here, so a file of
seven years gives the same cases as seven yearly files."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select, text, update

from app.extensions import db
from app.models import Area, Person, RosterEntry, Snapshot
from app.operations.casework import CaseTally, latest_keys
from app.operations.errors import UserError
from app.operations.import_plan import (
    CasePlan,
    DriverRows,
    IdReserver,
    apply_planned,
    plan_cases,
    take_write_lock,
    write_case_plan,
)
from app.operations.rows import table_of
from app.rules.criteria import Evaluation, Thresholds, evaluate
from app.settings import criteria_thresholds

log = logging.getLogger(__name__)

CHUNK = 900  # stays under SQLite's bound-parameter limit in IN (...) lists


@dataclass(frozen=True)
class EntryInput:
    person_id: str
    name: str
    resident: bool
    role: str


@dataclass(frozen=True)
class SnapshotInput:
    area_code: str
    kind: str  # "annual" | "update"
    review_year: int | None
    effective_on: date
    entries: tuple[EntryInput, ...]

    @property
    def identity(self) -> tuple[str, str, object]:
        return (self.area_code, self.kind, self.review_year or self.effective_on)


@dataclass
class StoreSummary:
    areas: int = 0
    snapshots_created: int = 0
    snapshots_replaced: int = 0
    snapshots_unchanged: int = 0
    rows: int = 0
    cases: CaseTally = field(default_factory=CaseTally)


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _roster_signature(entries: Iterable[tuple[object, str, bool, str]]) -> frozenset:
    return frozenset(entries)


@dataclass
class PreparedStore:
    """Everything an import will write, worked out from reads alone (see store_snapshots)."""

    summary: StoreSummary
    areas: dict[str, Area]
    persons: PersonPlan
    new: list[tuple[SnapshotInput, NewSnapshot]] = field(default_factory=list)
    replaced: list[tuple[Snapshot, SnapshotInput, Evaluation]] = field(default_factory=list)
    # Each area's new or changed snapshots (with their new evaluations), in file order: what
    # the case rules run on.
    changed: dict[int, list[Snapshot | NewSnapshot]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # An import's whole write, worked out ahead (`bulk`): its roster rows and case changes,
    # and what the database held when they were worked out.
    entries: list[tuple] = field(default_factory=list)
    cases: CasePlan | None = None
    snapshot_rows: DriverRows = field(default_factory=DriverRows)
    fingerprint: tuple = ()


def store_snapshots(
    inputs: Sequence[SnapshotInput],
    *,
    now: datetime,
    actor_id: int | None = None,
    source: str = "import",
    thresholds: Thresholds | None = None,
    progress: Callable[[int], None] | None = None,
) -> StoreSummary:
    """Create or replace snapshots and run the case rules for each area's new ones.

    The caller owns the transaction (commit or roll back). Re-storing identical rosters
    changes nothing. `progress(n)` is called as snapshots are processed.

    An import (`source="import"`) works out its whole write while only reading: which
    snapshots are new, replaced or unchanged, the roster rows, and what the case rules do
    (`app.operations.import_plan`), with the new rows' ids reserved. The write is then a few
    bulk statements, so the database's write lock (SQLite: one writer at a time, and web
    writes wait for it) is held for seconds, not for the whole import. Holding the lock, it
    first checks that the snapshots and cases are as they were read; if another writer
    changed them in between, the plan is worked out again (then with the lock held).

    Other sources (a membership update from the web, the demo) store their few snapshots
    the same way, then the same case rules are planned and written at once
    (`import_plan.apply_planned`)."""
    bulk = source == "import"
    prepared = prepare_snapshots(
        inputs, thresholds=thresholds, progress=progress, plan_for=(now, actor_id) if bulk else None
    )
    if bulk:
        return write_planned(prepared, inputs, now=now, actor_id=actor_id, thresholds=thresholds)
    return write_snapshots(prepared, now=now, actor_id=actor_id, source=source)


def prepare_snapshots(
    inputs: Sequence[SnapshotInput],
    *,
    thresholds: Thresholds | None = None,
    progress: Callable[[int], None] | None = None,
    plan_for: tuple[datetime, int | None] | None = None,
) -> PreparedStore:
    """Step one, reads only: which snapshots are new, replaced or unchanged, with their
    evaluations and persons. With `plan_for` (the import's time and actor), also the ids of
    the new rows, the roster rows and the case rules' plan."""
    summary = StoreSummary(rows=sum(len(s.entries) for s in inputs))
    seen: set[tuple] = set()
    for snap in inputs:
        if snap.identity in seen:
            raise UserError(f"{snap.area_code} appears twice for the same snapshot")
        seen.add(snap.identity)
    planned = plan_for is not None
    fingerprint = _fingerprint() if planned else ()
    areas = _areas_by_code({s.area_code for s in inputs})
    summary.areas = len(areas)
    prepared = PreparedStore(summary, areas, _plan_persons(inputs, reserve=planned))
    prepared.fingerprint = fingerprint
    known = prepared.persons.ids
    existing = _existing_snapshots(list(areas.values()))
    limits = thresholds or criteria_thresholds()
    for done, snap_in in enumerate(inputs, 1):
        _compare(prepared, snap_in, existing, known, limits)
        if progress and done % 500 == 0:
            progress(500)
    if progress:
        progress(len(inputs) % 500)
    if plan_for is not None:
        _plan_writes(prepared, *plan_for)
    return prepared


def _compare(
    prepared: PreparedStore,
    snap_in: SnapshotInput,
    existing: dict[tuple, tuple[Snapshot, frozenset]],
    known: dict[str, int],
    thresholds: Thresholds,
) -> None:
    """Sort one snapshot of the file: new, replacing a stored one, or unchanged."""
    summary = prepared.summary
    area = prepared.areas[snap_in.area_code]
    evaluation = evaluate(((e.resident, e.role) for e in snap_in.entries), thresholds)
    new = NewSnapshot(
        area_id=area.id,
        kind=snap_in.kind,
        review_year=snap_in.review_year,
        effective_on=snap_in.effective_on,
        members=evaluation.members,
        residents=evaluation.residents,
        flag=evaluation.flag,
        reasons=list(evaluation.reasons),
    )
    old = existing.get(snap_in.identity)
    if old is None:
        prepared.new.append((snap_in, new))
        prepared.changed[area.id].append(new)
        summary.snapshots_created += 1
        return
    snapshot, old_signature = old
    # A person not stored yet has no row id: such a roster differs from any stored.
    signature = _roster_signature(
        (known.get(e.person_id), e.name, e.resident, e.role) for e in snap_in.entries
    )
    if old_signature == signature:
        summary.snapshots_unchanged += 1
        return
    prepared.replaced.append((snapshot, snap_in, evaluation))
    summary.snapshots_replaced += 1
    new.id = snapshot.id  # the stored row, as it will be: what the case rules read
    prepared.changed[area.id].append(new)


def _plan_writes(prepared: PreparedStore, now: datetime, actor_id: int | None) -> None:
    """The ids of the new snapshots, the roster rows, and the case rules' plan."""
    ids = IdReserver("snapshots").take(len(prepared.new))
    for (_snap_in, new), snapshot_id in zip(prepared.new, ids, strict=True):
        new.id = snapshot_id
    person_ids = prepared.persons.all_ids
    for snapshot, snap_in, _evaluation in prepared.replaced:
        prepared.entries.extend(_entry_rows(snapshot.id, snap_in, person_ids))
    for snap_in, new in prepared.new:
        assert new.id is not None
        prepared.entries.extend(_entry_rows(new.id, snap_in, person_ids))
    by_id = {a.id: a for a in prepared.areas.values()}
    changed = prepared.changed
    latest_before = latest_keys(list(by_id)) if changed else {}
    prepared.cases = plan_cases(
        by_id,
        changed,
        latest_before,
        now=now,
        actor_id=actor_id,
        case_ids=IdReserver("cases").one,
    )
    prepared.snapshot_rows = DriverRows.of(
        table_of(Snapshot),
        _snapshot_rows([new for _, new in prepared.new], now, actor_id, "import"),
    )


def _nothing_to_write(prepared: PreparedStore) -> bool:
    persons = prepared.persons
    return not prepared.changed and not persons.new and not persons.renamed


def write_planned(
    prepared: PreparedStore,
    inputs: Sequence[SnapshotInput],
    *,
    now: datetime,
    actor_id: int | None,
    thresholds: Thresholds | None,
) -> StoreSummary:
    """Step two of an import: take the write lock, check nothing changed since step one
    (else work it out again, now holding the lock), then the bulk writes (the caller
    commits)."""
    if _nothing_to_write(prepared):
        return prepared.summary  # nothing to write: the lock is never taken
    take_write_lock()
    if _fingerprint() != prepared.fingerprint:
        log.info("import: snapshots or cases changed while the file was checked; checking again")
        prepared = prepare_snapshots(inputs, thresholds=thresholds, plan_for=(now, actor_id))
        if _nothing_to_write(prepared):
            return prepared.summary
    plan = prepared.cases
    assert plan is not None  # prepared with plan_for
    _write_persons(prepared.persons)
    _replace_rosters(prepared.replaced)
    prepared.snapshot_rows.execute()
    _insert_entries(prepared.entries)
    db.session.flush()  # the replaced snapshots' figures
    write_case_plan(plan)
    prepared.summary.cases.add(plan.tally)
    return prepared.summary


def _fingerprint() -> tuple:
    """What the plan of an import depends on, cheaply: the snapshots, persons and roster rows
    stored (their largest ids grow with any insert), the cases (their versions grow with any
    change, their count with any new case), and the areas' reps."""

    def one(sql: str) -> tuple:
        return tuple(db.session.execute(text(sql)).one())

    return (
        one("SELECT count(*), coalesce(max(id), 0) FROM snapshots"),
        one("SELECT coalesce(max(id), 0) FROM persons"),
        one("SELECT coalesce(max(id), 0) FROM roster_entries"),
        one("SELECT count(*), coalesce(max(id), 0), coalesce(sum(version), 0) FROM cases"),
        one(
            "SELECT count(rep_id), coalesce(sum(rep_id), 0), coalesce(sum(id * rep_id), 0)"
            " FROM areas"
        ),
    )


def _replace_rosters(replaced: list[tuple[Snapshot, SnapshotInput, Evaluation]]) -> None:
    replaced_ids = [snapshot.id for snapshot, _in, _ev in replaced]
    for batch in _chunks(replaced_ids):
        db.session.execute(delete(RosterEntry).where(RosterEntry.snapshot_id.in_(batch)))
    for snapshot, _snap_in, evaluation in replaced:
        _set_evaluation(snapshot, evaluation)


def write_snapshots(
    prepared: PreparedStore, *, now: datetime, actor_id: int | None, source: str
) -> StoreSummary:
    """Step two of a membership update or the demo: the writes, in bulk, then the case rules,
    planned and written at once (the caller commits)."""
    summary, changed = prepared.summary, prepared.changed
    if _nothing_to_write(prepared):
        return summary  # nothing to write: the lock is never taken
    person_ids = _write_persons(prepared.persons)
    by_id = {a.id: a for a in prepared.areas.values()}
    latest_before = latest_keys(list(by_id))
    new_entries: list[tuple] = []
    _replace_rosters(prepared.replaced)
    for snapshot, snap_in, _evaluation in prepared.replaced:
        new_entries.extend(_entry_rows(snapshot.id, snap_in, person_ids))
    _insert_snapshots([new for _, new in prepared.new], now, actor_id, source)
    for snap_in, new in prepared.new:
        assert new.id is not None  # _insert_snapshots read the new ids back
        new_entries.extend(_entry_rows(new.id, snap_in, person_ids))
    _insert_entries(new_entries)

    summary.cases.add(apply_planned(by_id, changed, latest_before, now=now, actor_id=actor_id))
    db.session.flush()
    return summary


@dataclass
class NewSnapshot:
    """A snapshot being inserted in bulk: what the case rules read of it (no ORM object,
    which would cost more than the rest of a large import)."""

    area_id: int
    kind: str
    review_year: int | None
    effective_on: date
    members: int
    residents: int
    flag: str | None
    reasons: list[str]
    id: int | None = None


def _snapshot_rows(
    snapshots: list[NewSnapshot], now: datetime, actor_id: int | None, source: str
) -> list[dict[str, object]]:
    return [
        {
            **({"id": s.id} if s.id is not None else {}),
            "area_id": s.area_id,
            "kind": s.kind,
            "review_year": s.review_year,
            "effective_on": s.effective_on,
            "source": source,
            "created_at": now,
            "created_by_id": actor_id,
            "members": s.members,
            "residents": s.residents,
            "flag": s.flag,
            "reasons": s.reasons,
        }
        for s in snapshots
    ]


def _insert_snapshots(
    snapshots: list[NewSnapshot], now: datetime, actor_id: int | None, source: str
) -> None:
    """One executemany per batch, then their ids read back by identity (SQLite answers an
    INSERT ... RETURNING of many rows one statement per row: ten times slower)."""
    table = table_of(Snapshot)
    for batch in _chunks(snapshots, 5000):
        db.session.execute(table.insert(), _snapshot_rows(list(batch), now, actor_id, source))
    ids: dict[tuple, int] = {}
    for batch in _chunks(sorted({s.area_id for s in snapshots})):
        stored = db.session.execute(
            select(
                table.c.id, table.c.area_id, table.c.kind, table.c.review_year, table.c.effective_on
            ).where(table.c.area_id.in_(batch))
        )
        for row_id, area_id, kind, year, effective_on in stored:
            ids[(area_id, kind, year or effective_on)] = row_id
    for snapshot in snapshots:
        snapshot.id = ids[
            (snapshot.area_id, snapshot.kind, snapshot.review_year or snapshot.effective_on)
        ]


def _set_evaluation(snapshot: Snapshot, evaluation: Evaluation) -> None:
    snapshot.members = evaluation.members
    snapshot.residents = evaluation.residents
    snapshot.flag = evaluation.flag
    snapshot.reasons = list(evaluation.reasons)


def _entry_rows(snapshot_id: int, snap_in: SnapshotInput, person_ids: dict[str, int]) -> list:
    return [
        (snapshot_id, person_ids[e.person_id], e.name, e.resident, e.role) for e in snap_in.entries
    ]


def _insert_entries(rows: list[tuple]) -> None:
    """Roster rows straight to the driver's executemany: at 200,000 rows, SQLAlchemy's
    per-row parameter processing would cost more than the database's work."""
    if not rows:
        return
    connection = db.session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (
        "INSERT INTO roster_entries (snapshot_id, person_ref, name, resident, role)"
        f" VALUES ({', '.join([mark] * 5)})"
    )
    for batch in _chunks(rows, 10000):
        connection.exec_driver_sql(sql, list(batch))


def _areas_by_code(codes: set[str]) -> dict[str, Area]:
    areas: dict[str, Area] = {}
    for batch in _chunks(sorted(codes)):
        for area in db.session.scalars(select(Area).where(Area.code.in_(batch))):
            areas[area.code] = area
    missing = sorted(codes - areas.keys())
    if missing:
        raise UserError("unknown area code(s): " + ", ".join(missing[:20]))
    return areas


@dataclass
class PersonPlan:
    """The file's persons: row ids of those stored, the new ones to insert, the renamed.
    With their ids reserved ahead, `all_ids` holds the new ones' too."""

    ids: dict[str, int]
    new: list[dict[str, object]]
    renamed: list[dict[str, object]]
    all_ids: dict[str, int] = field(default_factory=dict)


def _plan_persons(inputs: Sequence[SnapshotInput], *, reserve: bool = False) -> PersonPlan:
    """Map each external person_id to its row id where stored; list the persons to create.

    The latest name (by effective date) becomes the person's display name."""
    names: dict[str, tuple[date, str]] = {}
    for snap in inputs:
        for e in snap.entries:
            if e.person_id not in names or snap.effective_on >= names[e.person_id][0]:
                names[e.person_id] = (snap.effective_on, e.name)
    ids: dict[str, int] = {}
    known_names: dict[str, str] = {}
    for batch in _chunks(sorted(names)):
        rows = db.session.execute(
            select(Person.person_id, Person.id, Person.name).where(Person.person_id.in_(batch))
        )
        for person_id, row_id, name in rows:
            ids[person_id] = row_id
            known_names[person_id] = name
    new: list[dict[str, object]] = [
        {"person_id": p, "name": names[p][1]} for p in sorted(names) if p not in ids
    ]
    renamed: list[dict[str, object]] = [
        {"id": ids[p], "name": names[p][1]} for p in known_names if known_names[p] != names[p][1]
    ]
    plan = PersonPlan(ids, new, renamed)
    if reserve:
        plan.all_ids = dict(ids)
        for row, row_id in zip(new, IdReserver("persons").take(len(new)), strict=True):
            row["id"] = row_id
            plan.all_ids[str(row["person_id"])] = row_id
    return plan


PERSON_BATCH = 5000  # rows per INSERT (3 columns: 15,000 parameters, SQLite allows 32,766)


def _insert_persons(rows: list[dict[str, object]]) -> None:
    """One batch of new persons. On SQLite as one multi-row INSERT statement: the search's FTS5
    table is kept by a trigger on persons (migration 0013), and FTS5 writes its pending rows
    to disk at the start of every statement, so an executemany (a statement per row) made a
    segment per person, and the 30× import took four times as long."""
    if not rows:
        return
    if db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(table_of(Person).insert(), rows)
        return
    columns = list(rows[0])
    values = ", ".join(["(" + ", ".join("?" * len(columns)) + ")"] * len(rows))
    sql = f"INSERT INTO persons ({', '.join(columns)}) VALUES {values}"
    db.session.connection().exec_driver_sql(sql, tuple(row[c] for row in rows for c in columns))


def _write_persons(plan: PersonPlan) -> dict[str, int]:
    """Insert the new persons (then their ids read back unless reserved ahead) and rename the
    others."""
    for batch in _chunks(plan.new, PERSON_BATCH):
        _insert_persons(list(batch))
    if plan.renamed:
        db.session.execute(update(Person), plan.renamed)
    if plan.all_ids:
        return plan.all_ids
    ids = dict(plan.ids)
    for batch in _chunks([row["person_id"] for row in plan.new]):
        rows = db.session.execute(
            select(Person.person_id, Person.id).where(Person.person_id.in_(batch))
        )
        ids.update({person_id: row_id for person_id, row_id in rows})
    return ids


def _existing_snapshots(areas: list[Area]) -> dict[tuple, tuple[Snapshot, frozenset]]:
    """Stored snapshots of these areas with their roster signatures, by identity."""
    by_area = {a.id: a.code for a in areas}
    snapshots: dict[int, Snapshot] = {}
    for batch in _chunks(list(by_area)):
        for snap in db.session.scalars(select(Snapshot).where(Snapshot.area_id.in_(batch))):
            snapshots[snap.id] = snap
    entries: dict[int, list[tuple]] = defaultdict(list)
    for batch in _chunks(list(snapshots)):
        rows = db.session.execute(
            select(
                RosterEntry.snapshot_id,
                RosterEntry.person_ref,
                RosterEntry.name,
                RosterEntry.resident,
                RosterEntry.role,
            ).where(RosterEntry.snapshot_id.in_(batch))
        )
        for snapshot_id, *entry in rows:
            entries[snapshot_id].append(tuple(entry))
    result = {}
    for snap in snapshots.values():
        identity = (by_area[snap.area_id], snap.kind, snap.review_year or snap.effective_on)
        result[identity] = (snap, _roster_signature(entries[snap.id]))
    return result
