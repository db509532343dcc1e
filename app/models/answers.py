"""Answers a partnership contact sends through their personal link (issue 14): a proposed
membership update, an action reported done, more time asked for an action."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import Model
from app.models.areas import Contact
from app.models.cases import Case
from app.models.plans import Action
from app.models.types import UTCDateTime
from app.models.users import User
from app.rules.vocabulary import ANSWER_KINDS, ANSWER_STATUSES, AnswerStatus, sql_in


class PartnershipAnswer(Model):
    __tablename__ = "partnership_answers"
    __table_args__ = (
        CheckConstraint(sql_in("kind", ANSWER_KINDS), name="kind"),
        CheckConstraint(sql_in("status", ANSWER_STATUSES), name="status"),
        Index("ix_partnership_answers_case_status", "case_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # Who sent it: the contact row (gone if the contact is removed) and their name and address
    # as they were, so the timeline and the rep's page still say who it was from.
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=AnswerStatus.PENDING.value)
    # A random key the form carries: the same form sent twice makes one answer.
    form_key: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # A membership update: the proposed roster, [{person_id, name, resident, role}, ...]
    # (person_id "" for a person new to the roster).
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), index=True
    )
    comment: Mapped[str] = mapped_column(Text, default="")  # done: the comment; more time: why
    proposed_due_on: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_message: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship()
    contact: Mapped[Contact | None] = relationship()
    action: Mapped[Action | None] = relationship()
    decided_by: Mapped[User | None] = relationship()

    @property
    def is_pending(self) -> bool:
        return self.status == AnswerStatus.PENDING
