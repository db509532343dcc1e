"""Storing membership snapshots in bulk and running the case rules for them (docs/rules.md#cases).

Imports, the demo loader and the web's membership update all come through here, so a file of
seven years gives the same cases as seven yearly files."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import Area, Case, Person, RosterEntry, Snapshot
from app.operations.casework import CaseTally, apply_snapshots, latest_keys
from app.operations.errors import UserError
from app.operations.rows import table_of
from app.rules.criteria import Evaluation, Thresholds, evaluate
from app.rules.vocabulary import OPEN_STATUSES
from app.settings import criteria_thresholds

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
    # Each area's new or changed snapshots, in file order: what the case rules run on.
    changed: dict[int, list[Snapshot | NewSnapshot]] = field(
        default_factory=lambda: defaultdict(list)
    )


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

    Two steps, so that the database's write lock (SQLite: one writer at a time, and web writes
    wait for it) is held only for the writing: first everything is read, evaluated and
    compared with what is stored, with no write; then the rows go in with bulk statements
    and the case rules run on the cases as they are at that moment. A change of the same
    snapshots in between (another import, a membership update saved from the web) makes the
    import fail on the database's unique keys with nothing written, never half-written."""
    prepared = prepare_snapshots(inputs, thresholds=thresholds, progress=progress)
    return write_snapshots(prepared, now=now, actor_id=actor_id, source=source)


def prepare_snapshots(
    inputs: Sequence[SnapshotInput],
    *,
    thresholds: Thresholds | None = None,
    progress: Callable[[int], None] | None = None,
) -> PreparedStore:
    """Step one, reads only: which snapshots are new, replaced or unchanged, with their
    evaluations and persons."""
    summary = StoreSummary(rows=sum(len(s.entries) for s in inputs))
    seen: set[tuple] = set()
    for snap in inputs:
        if snap.identity in seen:
            raise UserError(f"{snap.area_code} appears twice for the same snapshot")
        seen.add(snap.identity)
    areas = _areas_by_code({s.area_code for s in inputs})
    summary.areas = len(areas)
    prepared = PreparedStore(summary, areas, _plan_persons(inputs))
    known = prepared.persons.ids
    existing = _existing_snapshots(list(areas.values()))
    for done, snap_in in enumerate(inputs, 1):
        area = areas[snap_in.area_code]
        evaluation = evaluate(
            ((e.resident, e.role) for e in snap_in.entries), thresholds or criteria_thresholds()
        )
        old = existing.get(snap_in.identity)
        if old is not None:
            snapshot, old_signature = old
            # A person not stored yet has no row id: such a roster differs from any stored.
            signature = _roster_signature(
                (known.get(e.person_id), e.name, e.resident, e.role) for e in snap_in.entries
            )
            if old_signature == signature:
                summary.snapshots_unchanged += 1
            else:
                prepared.replaced.append((snapshot, snap_in, evaluation))
                summary.snapshots_replaced += 1
                prepared.changed[area.id].append(snapshot)
        else:
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
            prepared.new.append((snap_in, new))
            prepared.changed[area.id].append(new)
            summary.snapshots_created += 1
        if progress and done % 500 == 0:
            progress(500)
    if progress:
        progress(len(inputs) % 500)
    return prepared


def write_snapshots(
    prepared: PreparedStore, *, now: datetime, actor_id: int | None, source: str
) -> StoreSummary:
    """Step two: the writes, in bulk, then the case rules (the caller commits)."""
    summary, changed = prepared.summary, prepared.changed
    if not changed and not prepared.persons.new and not prepared.persons.renamed:
        return summary  # nothing to write: the lock is never taken
    person_ids = _write_persons(prepared.persons)
    by_id = {a.id: a for a in prepared.areas.values()}
    latest_before = latest_keys(list(by_id))
    new_entries: list[tuple] = []
    replaced_ids = [snapshot.id for snapshot, _in, _ev in prepared.replaced]
    for batch in _chunks(replaced_ids):
        db.session.execute(delete(RosterEntry).where(RosterEntry.snapshot_id.in_(batch)))
    for snapshot, snap_in, evaluation in prepared.replaced:
        _set_evaluation(snapshot, evaluation)
        new_entries.extend(_entry_rows(snapshot.id, snap_in, person_ids))
    _insert_snapshots([new for _, new in prepared.new], now, actor_id, source)
    for snap_in, new in prepared.new:
        assert new.id is not None  # _insert_snapshots read the new ids back
        new_entries.extend(_entry_rows(new.id, snap_in, person_ids))
    _insert_entries(new_entries)

    open_cases, last_cases = _cases_by_area(list(changed))
    for area_id, snapshots in changed.items():
        summary.cases.add(
            apply_snapshots(
                by_id[area_id],
                snapshots,
                latest_before=latest_before.get(area_id),
                now=now,
                actor_id=actor_id,
                open_case=open_cases.get(area_id),
                last_case=last_cases.get(area_id),
                cases_loaded=True,
            )
        )
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


def _insert_snapshots(
    snapshots: list[NewSnapshot], now: datetime, actor_id: int | None, source: str
) -> None:
    """One executemany per batch, then their ids read back by identity (SQLite answers an
    INSERT ... RETURNING of many rows one statement per row: ten times slower)."""
    table = table_of(Snapshot)
    for batch in _chunks(snapshots, 5000):
        rows = [
            {
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
            for s in batch
        ]
        db.session.execute(table.insert(), rows)
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
    """The file's persons: row ids of those stored, the new ones to insert, the renamed."""

    ids: dict[str, int]
    new: list[dict[str, str]]
    renamed: list[dict[str, object]]


def _plan_persons(inputs: Sequence[SnapshotInput]) -> PersonPlan:
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
    new = [{"person_id": p, "name": names[p][1]} for p in sorted(names) if p not in ids]
    renamed: list[dict[str, object]] = [
        {"id": ids[p], "name": names[p][1]} for p in known_names if known_names[p] != names[p][1]
    ]
    return PersonPlan(ids, new, renamed)


def _write_persons(plan: PersonPlan) -> dict[str, int]:
    """Insert the new persons (executemany, then their ids read back) and rename the others."""
    ids = dict(plan.ids)
    for batch in _chunks(plan.new, 5000):
        db.session.execute(table_of(Person).insert(), list(batch))
    for batch in _chunks([row["person_id"] for row in plan.new]):
        rows = db.session.execute(
            select(Person.person_id, Person.id).where(Person.person_id.in_(batch))
        )
        ids.update({person_id: row_id for person_id, row_id in rows})
    if plan.renamed:
        db.session.execute(update(Person), plan.renamed)
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


def _cases_by_area(area_ids: list[int]) -> tuple[dict[int, Case], dict[int, Case]]:
    """Each area's open case and its latest case, loaded in a few queries."""
    open_cases: dict[int, Case] = {}
    last_cases: dict[int, Case] = {}
    for batch in _chunks(area_ids):
        for case in db.session.scalars(
            select(Case).where(Case.area_id.in_(batch)).order_by(Case.id)
        ):
            last_cases[case.area_id] = case
            if case.status in OPEN_STATUSES:
                open_cases[case.area_id] = case
    return open_cases, last_cases
