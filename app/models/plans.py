"""A case's action plan and its actions (docs/rules.md#action-plans)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import Model
from app.models.cases import Case
from app.models.types import UTCDateTime
from app.rules.vocabulary import ACTION_STATUSES, ActionStatus, Owner, sql_in


class ActionPlan(Model):
    __tablename__ = "action_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    barriers: Mapped[list[str]] = mapped_column(JSON, default=list)
    barriers_text: Mapped[str] = mapped_column(Text, default="")
    target_members: Mapped[int | None] = mapped_column(Integer)
    target_on: Mapped[date | None] = mapped_column(Date)
    support: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    case: Mapped[Case] = relationship(back_populates="plan")
    actions: Mapped[list[Action]] = relationship(
        back_populates="plan", order_by="Action.id", cascade="all, delete-orphan"
    )


class Action(Model):
    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint(sql_in("owner", tuple(Owner)), name="owner"),
        CheckConstraint(sql_in("status", ACTION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("action_plans.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(10), default=ActionStatus.OPEN.value)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    plan: Mapped[ActionPlan] = relationship(back_populates="actions")
