"""The read side of the Outbox page: counts per status and one page of messages."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from app.extensions import db
from app.models import OutboxMessage
from app.rules.vocabulary import OUTBOX_STATUSES

PER_PAGE = 50


@dataclass(frozen=True)
class OutboxPage:
    status: str | None
    counts: dict[str, int]
    messages: list[OutboxMessage]
    page: int
    pages: int
    total: int  # messages matching the filter


def status_counts() -> dict[str, int]:
    """{status: count} for every status (zero included), in one query."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    counts: dict[str, int] = dict.fromkeys(OUTBOX_STATUSES, 0)
    counts.update({str(status): n for status, n in rows})
    return counts


def outbox_page(status: str | None, page: int) -> OutboxPage:
    """Newest first, 50 a page; `status` None means every message. Two queries."""
    counts = status_counts()
    total = counts[status] if status else sum(counts.values())
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    query = (
        select(OutboxMessage)
        # The list shows no bodies: don't fetch them (and fail loudly if a template tries).
        .options(
            defer(OutboxMessage.body_text, raiseload=True),
            defer(OutboxMessage.body_html, raiseload=True),
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )
    if status:
        query = query.where(OutboxMessage.status == status)
    messages = list(db.session.scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    return OutboxPage(status, counts, messages, page, pages, total)
