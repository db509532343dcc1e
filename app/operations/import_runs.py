"""Imports from the web: check a file in the request, preview it by running the real import in
a transaction that is rolled back, then apply exactly that file (held server-side, checked by
its hash) once the user confirms. Preview and apply run off the request, in a thread, so a
150,000-row file never meets a worker timeout; the progress page reads the run's row.

The CLI and the web call the same parsers and stores (`app/operations/imports.py`,
`app/operations/snapshots.py`), so both give the same cases, events and insights."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app import clock
from app.extensions import db
from app.models import Area, Case, CaseEvent, ImportRun, User
from app.models.imports import (
    APPLIED,
    APPLYING,
    BUSY_STATUSES,
    DISCARDED,
    FAILED,
    PREVIEWED,
    PREVIEWING,
)
from app.operations.errors import UserError
from app.operations.imports import (
    ImportRejected,
    known_area_codes,
    parse_areas,
    parse_snapshots,
    store_areas,
)
from app.operations.maintenance import refresh_statistics
from app.operations.rows import rowcount
from app.operations.snapshots import store_snapshots
from app.rules.vocabulary import EventKind, SnapshotKind

log = logging.getLogger(__name__)

# The web's word for each kind of file -> the snapshot kind it stores (None: the areas file).
IMPORT_KINDS: dict[str, SnapshotKind | None] = {
    "areas": None,
    "reviews": SnapshotKind.ANNUAL,
    "updates": SnapshotKind.UPDATE,
}
# The case events that are an import's case changes: the rules' for snapshots, reassignment
# for areas (an opened case's own "assigned" event is part of its opening).
SNAPSHOT_CHANGE_KINDS = (
    EventKind.OPENED,
    EventKind.RETURNED,
    EventKind.RESOLVED,
    EventKind.ESCALATED,
)
AREA_CHANGE_KINDS = (EventKind.ASSIGNED,)
CHANGE_COUNTS = (
    "areas_created",
    "areas_updated",
    "contacts_added",
    "contacts_updated",
    "snapshots_created",
    "snapshots_replaced",
)
MAX_LISTED_CHANGES = 2000  # a preview lists this many case changes; the counts cover all
STALE_AFTER = timedelta(minutes=30)  # a busy run not touched for this long was interrupted


class ImportBusy(UserError):
    """Another import is being previewed or applied; this one is refused, nothing changed."""


@dataclass
class ImportOutcome:
    """What a file did (or, in a preview, would do)."""

    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)  # change, area_code, case_id
    change_counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    reps_created: list[str] = field(default_factory=list)

    @property
    def nothing_changed(self) -> bool:
        changed = (self.counts.get(key, 0) for key in CHANGE_COUNTS)
        return not any(changed) and not any(self.change_counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "nothing_changed": self.nothing_changed}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_file(kind: str, data: bytes) -> tuple[int, list[str]]:
    """Parse the file as the CLI does: its row count and warnings, or ImportRejected."""
    if kind not in IMPORT_KINDS:
        raise UserError("Choose what the file holds: areas, annual reviews or in-year updates.")
    snapshot_kind = IMPORT_KINDS[kind]
    if snapshot_kind is None:
        _rows, warnings, count = parse_areas(data)
    else:
        _inputs, warnings, count = parse_snapshots(data, snapshot_kind, known_area_codes())
    return count, warnings


def run_file(
    kind: str,
    data: bytes,
    *,
    now: datetime,
    actor_id: int | None,
    progress: Callable[[str, int], None] | None = None,
) -> ImportOutcome:
    """Import the file in the current transaction (the caller commits or rolls back)."""
    last_event = db.session.scalar(select(func.max(CaseEvent.id))) or 0
    outcome = ImportOutcome()
    snapshot_kind = IMPORT_KINDS[kind]
    if snapshot_kind is None:
        rows, outcome.warnings, outcome.rows = parse_areas(data)
        summary = store_areas(rows, now=now, actor_id=actor_id)
        outcome.reps_created = list(summary.reps_created)
        outcome.counts = {
            "areas_created": summary.areas_created,
            "areas_updated": summary.areas_updated,
            "areas_unchanged": summary.areas_unchanged,
            "contacts_added": summary.contacts_added,
            "contacts_updated": summary.contacts_updated,
        }
    else:
        step = _stepper(progress)
        inputs, outcome.warnings, outcome.rows = parse_snapshots(
            data, snapshot_kind, known_area_codes(), step("checking")
        )
        stored = store_snapshots(
            inputs, now=now, actor_id=actor_id, source="import", progress=step("storing")
        )
        outcome.counts = {
            "areas": stored.areas,
            "snapshots_created": stored.snapshots_created,
            "snapshots_replaced": stored.snapshots_replaced,
            "snapshots_unchanged": stored.snapshots_unchanged,
        }
    db.session.flush()
    kinds = AREA_CHANGE_KINDS if snapshot_kind is None else SNAPSHOT_CHANGE_KINDS
    outcome.changes, outcome.change_counts = _case_changes(last_event, kinds)
    return outcome


def _stepper(progress):
    def for_phase(phase: str):
        return (lambda n: progress(phase, n)) if progress else None

    return for_phase


def _case_changes(
    after_event_id: int, kinds: tuple[str, ...]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The case events this import wrote (it is the only writer: see the busy slot)."""
    rows = db.session.execute(
        select(CaseEvent.kind, Area.code, Case.id)
        .join(Case, CaseEvent.case_id == Case.id)
        .join(Area, Case.area_id == Area.id)
        .where(CaseEvent.id > after_event_id, CaseEvent.kind.in_(kinds))
        .order_by(Area.code, CaseEvent.id)
    ).all()
    counts = {kind: 0 for kind in kinds}
    changes: list[dict[str, Any]] = []
    for kind, code, case_id in rows:
        counts[kind] += 1
        if len(changes) < MAX_LISTED_CHANGES:
            changes.append({"change": kind, "area_code": code, "case_id": case_id})
    return changes, counts


# --------------------------------------------------------------------------- runs


def start_preview(
    kind: str, filename: str, data: bytes, *, actor: User, now: datetime
) -> ImportRun:
    """Check the file (ImportRejected lists every bad row), hold it, and start its preview.

    Refused with ImportBusy while another import is being previewed or applied."""
    rows, warnings = check_file(kind, data)
    _release_stale(now)
    run = ImportRun(
        kind=kind,
        filename=(filename or "upload.csv")[-255:],
        sha256=sha256_of(data),
        data=data,
        size=len(data),
        rows=rows,
        status=PREVIEWING,
        busy=True,
        uploaded_by_id=actor.id,
        created_at=now,
        updated_at=now,
        warnings=warnings,
        preview={},
        outcome={},
    )
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _busy_error() from None
    log.info(
        "import %s: %s file %r (%d rows) uploaded by user %s",
        run.id,
        kind,
        filename,
        rows,
        actor.id,
    )
    _spawn(run.id, PREVIEWING)
    return run


def confirm(run: ImportRun, sha256: str, *, actor: User, now: datetime) -> None:
    """Apply the previewed file, if `sha256` is the hash of the file that was previewed."""
    if run.status != PREVIEWED:
        raise UserError("This file is not waiting for confirmation: it has already been handled.")
    if sha256 != run.sha256 or sha256_of(run.data) != run.sha256:
        raise UserError(
            "The file held for this import does not match the preview; upload it again."
        )
    _release_stale(now)
    try:
        claimed = rowcount(
            db.session.execute(
                update(ImportRun)
                .where(ImportRun.id == run.id, ImportRun.status == PREVIEWED)
                .values(status=APPLYING, busy=True, applied_by_id=actor.id, updated_at=now)
            )
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _busy_error() from None
    if not claimed:
        raise UserError("This file is not waiting for confirmation: it has already been handled.")
    log.info("import %s: confirmed by user %s", run.id, actor.id)
    _spawn(run.id, APPLYING)


def discard(run: ImportRun, *, actor: User, now: datetime) -> None:
    """Drop a preview that was not confirmed (the file stays in the history)."""
    if run.status != PREVIEWED:
        raise UserError("Only a preview waiting for confirmation can be discarded.")
    run.status = DISCARDED
    run.updated_at = now
    log.info("import %s: discarded by user %s", run.id, actor.id)


def _busy_error() -> ImportBusy:
    running = db.session.scalar(select(ImportRun).where(ImportRun.busy.is_(True)))
    what = (
        f" ({running.filename}, {running.status} for {running.uploaded_by.name})"
        if running is not None and running.uploaded_by is not None
        else ""
    )
    return ImportBusy(
        f"Another import is running{what}. Imports run one at a time so they never interleave:"
        " nothing was imported; try again when it has finished."
    )


def _release_stale(now: datetime) -> None:
    """A run left busy by a process that died (a restart mid-import) frees the slot."""
    stale = rowcount(
        db.session.execute(
            update(ImportRun)
            .where(ImportRun.busy.is_(True), ImportRun.updated_at < now - STALE_AFTER)
            .values(
                busy=None, status=FAILED, error="The import was interrupted; nothing was applied."
            )
        )
    )
    if stale:
        db.session.commit()
        log.warning("import: released %d interrupted run(s)", stale)


# --------------------------------------------------------------------------- the work

# Progress of the runs working in this process: run id -> (phase, done). Only counters for
# the progress page; the run's row holds everything that matters.
PROGRESS: dict[int, tuple[str, int]] = {}
_threads: dict[int, threading.Thread] = {}


def _spawn(run_id: int, phase: str) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=work, args=(app, run_id, phase), name=f"import-{run_id}", daemon=True
    )
    _threads[run_id] = thread
    thread.start()


def wait_for_imports(timeout: float = 300) -> None:
    """Join the import threads of this process (tests, and a clean shutdown)."""
    for run_id, thread in list(_threads.items()):
        thread.join(timeout)
        _threads.pop(run_id, None)


def work(app: Flask, run_id: int, phase: str) -> None:
    """Preview (roll back) or apply (commit with the run's outcome) one run."""
    with app.app_context():
        try:
            _work(run_id, phase)
        except Exception:
            log.exception("import %s: %s failed", run_id, phase)
            db.session.rollback()
            _finish(run_id, FAILED, error="The import failed unexpectedly; nothing was applied.")
        finally:
            PROGRESS.pop(run_id, None)
            db.session.remove()


def _run(run_id: int) -> ImportRun:
    run = db.session.get(ImportRun, run_id)
    assert run is not None  # the worker is only ever given a run it was just handed
    return run


def _work(run_id: int, phase: str) -> None:
    run = _run(run_id)
    kind, data, actor_id = run.kind, run.data, (run.applied_by_id or run.uploaded_by_id)
    done = {"checking": 0, "storing": 0}

    def progress(step: str, n: int) -> None:
        done[step] += n
        PROGRESS[run_id] = (step, done[step])

    now = clock.now()
    try:
        outcome = run_file(kind, data, now=now, actor_id=actor_id, progress=progress)
    except (ImportRejected, UserError) as exc:
        db.session.rollback()
        if isinstance(exc, ImportRejected):
            report = exc.problems.report()
            lines = report.tail + report.shown  # the counts per reason first: kept if cut
        else:
            lines = [str(exc)]
        _finish(run_id, FAILED, error="; ".join(lines)[:2000])
        return
    if phase == PREVIEWING:
        db.session.rollback()
        _finish(run_id, PREVIEWED, preview=outcome.as_dict())
        log.info("import %s: previewed (%d rows)", run_id, outcome.rows)
        return
    # Apply: the run's outcome is written in the import's own transaction.
    run = _run(run_id)
    run.status, run.busy, run.outcome = APPLIED, None, outcome.as_dict()
    run.applied_at = run.updated_at = now
    db.session.commit()
    refresh_statistics()
    log.info(
        "import %s: applied by user %s (%d rows, case changes %s)",
        run_id,
        actor_id,
        outcome.rows,
        outcome.change_counts,
    )


def _finish(run_id: int, status: str, **values: Any) -> None:
    db.session.execute(
        update(ImportRun)
        .where(ImportRun.id == run_id)
        .values(status=status, busy=None, updated_at=clock.now(), **values)
    )
    db.session.commit()


def is_busy(run: ImportRun) -> bool:
    return run.status in BUSY_STATUSES
