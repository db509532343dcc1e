"""Web imports: each uploaded file, held server-side from preview to confirm, and its outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.extensions import Model
from app.models.types import UTCDateTime
from app.models.users import User

# The life of an uploaded file: checked in the request, previewed off it (the real import,
# rolled back), applied off it once confirmed.
PREVIEWING = "previewing"
PREVIEWED = "previewed"
APPLYING = "applying"
APPLIED = "applied"
FAILED = "failed"
DISCARDED = "discarded"
IMPORT_RUN_STATUSES = (PREVIEWING, PREVIEWED, APPLYING, APPLIED, FAILED, DISCARDED)
BUSY_STATUSES = (PREVIEWING, APPLYING)


class ImportRun(Model):
    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # areas | reviews | updates
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    size: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), index=True)
    # True while a preview or an apply runs, NULL otherwise: the unique constraint lets only
    # one import work at a time, enforced by the database across processes.
    busy: Mapped[bool | None] = mapped_column(Boolean, unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    preview: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(2000))

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    applied_by: Mapped[User | None] = relationship(foreign_keys=[applied_by_id])
