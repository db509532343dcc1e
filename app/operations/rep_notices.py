"""A rep's list of new cases: a bulk assignment or a handover gives a rep many cases at once,
and the rep gets one mail listing them (not one per case), queued in the caller's transaction.
The cases' assigned events are marked `listed`, so no per-case notice follows them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from app.models import Area, Case, User
from app.operations.sweep import enqueue_now
from app.rules.reminders import AssignedCase, new_cases_notice

log = logging.getLogger(__name__)


def queue_new_cases_notice(
    rep: User | None,
    cases: Sequence[Case],
    now: datetime,
    batch: str,
    *,
    areas: Sequence[Area] = (),
    handed_over_by: str | None = None,
) -> bool:
    """Queue one mail to `rep` listing `cases` (and `areas`); False when there is nothing to
    say or nobody to tell (the unassigned queue). `batch` keeps the mail's key unique."""
    if rep is None or not rep.active:
        return False
    notice = new_cases_notice(
        rep.id,
        rep.name,
        rep.email,
        [AssignedCase(c.id, c.area.code, c.area.name, c.flag, c.opened_on) for c in cases],
        now,
        batch,
        areas=[(a.code, a.name) for a in areas],
        handed_over_by=handed_over_by,
    )
    if notice is None or not enqueue_now([notice], now):
        return False
    log.info(
        "new-cases notice queued for user %s: %d cases, %d areas (%s)",
        rep.id,
        len(cases),
        len(areas),
        notice.key,
    )
    return True
