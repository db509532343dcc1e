"""The persistent outbox of automatic mail, the scheduler's lease and the jobs' last runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import Model
from app.models.cases import Case
from app.models.types import UTCDateTime
from app.rules.vocabulary import JOB_NAMES, OUTBOX_STATUSES, OutboxStatus, sql_in


class OutboxMessage(Model):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(sql_in("status", OUTBOX_STATUSES), name="status"),
        Index("ix_outbox_status_not_before", "status", "not_before"),
        # The Outbox page, newest first, whole or by status: one page read from an index,
        # not a sort of every message (the outbox only grows).
        Index("ix_outbox_created_at_id", "created_at", "id"),
        Index("ix_outbox_status_created_at_id", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The reminder's identity: the database refuses a second enqueue of the same key.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why a queued message was not sent after all (its cause was gone), and when.
    cancelled_reason: Mapped[str | None] = mapped_column(String(300))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the sender gave the message up (status 'failed'): the health panels count the last 24 h.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    case: Mapped[Case | None] = relationship()


class SchedulerLease(Model):
    """Who runs the scheduler's jobs now: a second scheduler waits until the lease expires."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class JobRun(Model):
    """The last run of a periodic job (the sweep, the sender), for the health checks.

    One row per job, overwritten on every run: reading health costs one small query."""

    __tablename__ = "job_runs"
    __table_args__ = (CheckConstraint(sql_in("name", JOB_NAMES), name="name"),)

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The sender: the last mail server error and when it happened (kept after a good run, so
    # the Outbox page can show what went wrong last).
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
