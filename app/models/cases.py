"""Cases (one open per area at most) and their timeline of events."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import Model
from app.models.areas import Area
from app.models.types import UTCDateTime, partial_unique_index
from app.models.users import User

if TYPE_CHECKING:
    from app.models.plans import ActionPlan
from app.rules.vocabulary import FLAGS, OPEN_STATUSES, STATUSES, CaseStatus, sql_in

_OPEN_SQL = sql_in("status", OPEN_STATUSES)


class Case(Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(sql_in("status", STATUSES), name="status"),
        CheckConstraint(sql_in("flag", FLAGS), name="flag"),
        # docs/rules.md#cases: at most one open case per area, enforced by the database.
        partial_unique_index("uq_cases_one_open_per_area", "area_id", where=_OPEN_SQL),
        Index("ix_cases_status_flag", "status", "flag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    flag: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.NEW.value)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    opened_on: Mapped[date] = mapped_column(Date)
    returned_on: Mapped[date | None] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    previous_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    opened_snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("snapshots.id", ondelete="SET NULL")
    )
    escalated_count: Mapped[int] = mapped_column(Integer, default=0)
    last_escalated_on: Mapped[date | None] = mapped_column(Date)
    # Milestones for the recovery funnel: when the case first reached each status.
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    plan_agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Last event that is not an email: drives "stale" reminders and urgency ordering.
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Partnership reminders held back until this date (London), and why (app/rules/pause.py).
    reminders_paused_until: Mapped[date | None] = mapped_column(Date)
    reminders_paused_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    area: Mapped[Area] = relationship()
    rep: Mapped[User | None] = relationship()
    previous_case: Mapped[Case | None] = relationship(remote_side=[id])
    plan: Mapped[ActionPlan | None] = relationship(back_populates="case", uselist=False)
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id.desc()", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CaseEvent(Model):
    """One line of a case's timeline: who did what, when."""

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_case_created", "case_id", "created_at"),
        # The dashboard's "days since the rep's last casework": latest event per actor.
        Index("ix_case_events_actor_created", "actor_id", "created_at"),
        # The search's notes and the digests' news: events of one kind, by time.
        Index("ix_case_events_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
