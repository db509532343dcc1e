"""The settings the rules take as parameters, read from the app's configuration (defaults in
config.py). Rules never read configuration themselves; operations, queries and views pass what
these functions return. See docs/rules.md."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from flask import current_app

from app.rules.criteria import Thresholds
from app.rules.health import HealthThresholds


def criteria_thresholds() -> Thresholds:
    """The criteria as configured: CRITERIA_MIN_MEMBERS and CRITERIA_RESIDENT_SHARE."""
    config = current_app.config
    return Thresholds(
        min_members=int(config["CRITERIA_MIN_MEMBERS"]),
        resident_share=Fraction(str(config["CRITERIA_RESIDENT_SHARE"])),
    )


def stale_after_days() -> int:
    """Days without activity after which an open case is stale (REMINDER_STALE_AFTER_DAYS): the
    stale reminder, the case list's "stale" filter, My cases and the dashboard agree."""
    return int(current_app.config["REMINDER_STALE_AFTER_DAYS"])


def health_thresholds() -> HealthThresholds:
    """When the mail machinery counts as degraded: HEALTH_SWEEP_LATE_MINUTES (no sweep for
    longer) and HEALTH_MAIL_WAITING_MINUTES (due mail waiting longer)."""
    config = current_app.config
    return HealthThresholds(
        sweep_late=timedelta(minutes=int(config["HEALTH_SWEEP_LATE_MINUTES"])),
        mail_waiting=timedelta(minutes=int(config["HEALTH_MAIL_WAITING_MINUTES"])),
    )
