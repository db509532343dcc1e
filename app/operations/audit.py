"""The audit trail: one function writes every entry (and the operator's log line for it)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from app.extensions import db
from app.models import AuditEntry

log = logging.getLogger(__name__)


def record_audit(
    action: str,
    message: str,
    *,
    target_type: str,
    target_id: int | None,
    now: datetime,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry in the caller's transaction, and say so in the log."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        message=message,
        data=data or {},
        created_at=now,
    )
    db.session.add(entry)
    log.info("%s %s=%s actor=%s: %s", action, target_type, target_id, actor_id or "system", message)
    return entry


def record_user_audit(
    action: str,
    user_id: int | None,
    message: str,
    *,
    now: datetime,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """An audit entry about a staff account."""
    return record_audit(
        action,
        message,
        target_type="user",
        target_id=user_id,
        now=now,
        actor_id=actor_id,
        data=data,
    )
