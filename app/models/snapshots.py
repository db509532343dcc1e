"""Membership snapshots (annual reviews and in-year updates) and their rosters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import Model
from app.models.areas import Area
from app.models.types import UTCDateTime, partial_unique_index
from app.rules.vocabulary import (
    MEMBER_ROLES,
    SNAPSHOT_KINDS,
    UNCOUNTED_ROLES,
    SnapshotKind,
    sql_in,
)

_UPDATE_SQL = f"kind = '{SnapshotKind.UPDATE}'"


class Person(Model):
    """Someone who sits on a partnership; `person_id` is stable across years and areas."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Snapshot(Model):
    __tablename__ = "snapshots"
    __table_args__ = (
        CheckConstraint(sql_in("kind", SNAPSHOT_KINDS), name="kind"),
        CheckConstraint(
            f"(kind = '{SnapshotKind.ANNUAL}' AND review_year IS NOT NULL)"
            f" OR (kind = '{SnapshotKind.UPDATE}' AND review_year IS NULL)",
            name="year_matches_kind",
        ),
        # One annual review per area and year (update rows have no year, so never clash).
        UniqueConstraint("area_id", "review_year"),
        # One in-year update per area and day: a second one that day replaces the roster.
        partial_unique_index(
            "uq_snapshots_update_day", "area_id", "effective_on", where=_UPDATE_SQL
        ),
        Index("ix_snapshots_area_effective", "area_id", "effective_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    review_year: Mapped[int | None] = mapped_column(Integer)
    effective_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20), default="import")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The evaluation of this roster (docs/rules.md#criteria), stored so insights and history
    # read it in SQL.
    members: Mapped[int] = mapped_column(Integer, default=0)
    residents: Mapped[int] = mapped_column(Integer, default=0)
    flag: Mapped[str | None] = mapped_column(String(20))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)

    area: Mapped[Area] = relationship()
    entries: Mapped[list[RosterEntry]] = relationship(
        back_populates="snapshot", cascade="all, delete-orphan", order_by="RosterEntry.id"
    )


class RosterEntry(Model):
    __tablename__ = "roster_entries"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "person_ref"),
        CheckConstraint(sql_in("role", MEMBER_ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"))
    person_ref: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    resident: Mapped[bool] = mapped_column(Boolean)
    role: Mapped[str] = mapped_column(String(20))

    snapshot: Mapped[Snapshot] = relationship(back_populates="entries")
    person: Mapped[Person] = relationship()

    @property
    def counted(self) -> bool:
        return self.role not in UNCOUNTED_ROLES
