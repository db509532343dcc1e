"""Health of the mail machinery: is the sweep running, is due mail going out?

A pure function of what the health query read (app/queries/health.py) and the thresholds
(settings HEALTH_SWEEP_LATE_MINUTES and HEALTH_MAIL_WAITING_MINUTES in config.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.rules.vocabulary import HealthStatus


@dataclass(frozen=True)
class HealthThresholds:
    sweep_late: timedelta = timedelta(minutes=15)  # no sweep for longer: degraded
    mail_waiting: timedelta = timedelta(minutes=30)  # due mail waiting longer: degraded


DEFAULT_HEALTH_THRESHOLDS = HealthThresholds()


def _minutes(span: timedelta) -> str:
    minutes = max(int(span.total_seconds() // 60), 0)
    if minutes < 120:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


def health_problems(
    now: datetime,
    last_sweep_at: datetime | None,
    oldest_due_at: datetime | None,
    thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS,
) -> list[str]:
    """What is wrong, in words an operator can act on (empty: all is well)."""
    problems = []
    if last_sweep_at is None:
        problems.append("The reminder sweep has never run: is the scheduler running?")
    elif now - last_sweep_at > thresholds.sweep_late:
        problems.append(
            f"The last reminder sweep was {_minutes(now - last_sweep_at)} ago "
            f"(expected every few minutes): is the scheduler running?"
        )
    if oldest_due_at is not None and now - oldest_due_at > thresholds.mail_waiting:
        problems.append(
            f"Due mail has been waiting for {_minutes(now - oldest_due_at)}: "
            f"is the sender running and the mail server reachable?"
        )
    return problems


def health_status(database_ok: bool, problems: list[str]) -> HealthStatus:
    if not database_ok:
        return HealthStatus.DOWN
    return HealthStatus.DEGRADED if problems else HealthStatus.OK
