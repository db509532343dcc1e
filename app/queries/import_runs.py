"""The read side of web imports: the history list and one run (never the file's bytes)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ImportRun

HISTORY_PER_PAGE = 25


def import_history(page: int, per_page: int = HISTORY_PER_PAGE) -> tuple[list[ImportRun], int]:
    """Newest first, with who uploaded and applied each (two queries whatever the page)."""
    total = db.session.scalar(select(func.count(ImportRun.id))) or 0
    runs = db.session.scalars(
        select(ImportRun)
        .options(joinedload(ImportRun.uploaded_by), joinedload(ImportRun.applied_by))
        .order_by(ImportRun.created_at.desc(), ImportRun.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(runs), total


def import_run(run_id: int) -> ImportRun | None:
    return db.session.scalar(
        select(ImportRun)
        .options(joinedload(ImportRun.uploaded_by), joinedload(ImportRun.applied_by))
        .where(ImportRun.id == run_id)
    )


def import_file(run_id: int) -> tuple[str, bytes] | None:
    row = db.session.execute(
        select(ImportRun.filename, ImportRun.data).where(ImportRun.id == run_id)
    ).first()
    return (row.filename, row.data) if row else None
