"""Health of the mail machinery, read in four small queries (none grows with the outbox's
history: each uses the outbox's (status, not_before) index or a one-row table).

Read by GET /healthz, `flask health` and the health panels of the Outbox page and dashboard;
whether it is ok or degraded is decided by app/rules/health.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import JobRun, OutboxMessage, SchedulerLease
from app.operations.outbox import BACKOFF_ROW
from app.rules.health import HealthThresholds, health_problems, health_status
from app.rules.vocabulary import HealthStatus, JobName, OutboxStatus

log = logging.getLogger(__name__)

FAILED_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Health:
    status: HealthStatus
    database_ok: bool
    last_sweep_at: datetime | None = None
    last_send_at: datetime | None = None
    queued_due: int | None = None
    oldest_due_at: datetime | None = None
    failed_24h: int | None = None
    last_error: str | None = None  # the mail server's last error (not for /healthz)
    last_error_at: datetime | None = None
    backoff_until: datetime | None = None  # the sender waits for the mail server until then
    problems: tuple[str, ...] = field(default_factory=tuple)

    def public(self) -> dict[str, Any]:
        """What /healthz and `flask health` show: counts and times, no personal data."""
        return {
            "status": str(self.status),
            "database": "ok" if self.database_ok else "unreachable",
            "last_sweep_at": _iso(self.last_sweep_at),
            "last_send_at": _iso(self.last_send_at),
            "queued_due": self.queued_due,
            "oldest_due_at": _iso(self.oldest_due_at),
            "failed_24h": self.failed_24h,
        }


def read_health(now: datetime, thresholds: HealthThresholds) -> Health:
    """The health at `now`; `down` (never an exception) when the database cannot be read."""
    try:
        return _read(now, thresholds)
    except SQLAlchemyError as error:
        log.warning("Health: the database cannot be reached: %s", error.__class__.__name__)
        try:
            db.session.rollback()
        except SQLAlchemyError:
            db.session().invalidate()
        return Health(
            status=HealthStatus.DOWN,
            database_ok=False,
            problems=("The database cannot be reached.",),
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _read(now: datetime, thresholds: HealthThresholds) -> Health:
    runs = {row.name: row for row in db.session.scalars(select(JobRun))}
    queued_due, oldest_due_at = db.session.execute(
        select(func.count(), func.min(OutboxMessage.not_before)).where(
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.not_before <= now,
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
    ).one()
    failed_24h = db.session.scalar(
        select(func.count()).where(
            OutboxMessage.status == OutboxStatus.FAILED,
            OutboxMessage.failed_at >= now - FAILED_WINDOW,
        )
    )
    backoff = db.session.scalar(
        select(SchedulerLease.expires_at).where(SchedulerLease.name == BACKOFF_ROW)
    )
    sweep, send = runs.get(JobName.SWEEP), runs.get(JobName.SEND)
    last_sweep_at = sweep.last_run_at if sweep else None
    problems = health_problems(now, last_sweep_at, oldest_due_at, thresholds)
    return Health(
        status=health_status(True, problems),
        database_ok=True,
        last_sweep_at=last_sweep_at,
        last_send_at=send.last_run_at if send else None,
        queued_due=queued_due,
        oldest_due_at=oldest_due_at,
        failed_24h=failed_24h,
        last_error=send.last_error if send else None,
        last_error_at=send.last_error_at if send else None,
        backoff_until=backoff if backoff is not None and backoff > now else None,
        problems=tuple(problems),
    )
