"""Big Local areas and their partnership contacts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import Model
from app.models.types import UTCDateTime
from app.models.users import User


class Area(Model):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The current evaluation (docs/rules.md#cases): that of the latest snapshot by effective date.
    # Kept here so lists and rules read it without scanning rosters.
    current_snapshot_on: Mapped[date | None] = mapped_column(Date)
    current_members: Mapped[int | None] = mapped_column(Integer)
    current_residents: Mapped[int | None] = mapped_column(Integer)
    current_flag: Mapped[str | None] = mapped_column(String(20))
    current_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)

    rep: Mapped[User | None] = relationship(lazy="joined")
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="area", order_by="Contact.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Area {self.code}>"


class Contact(Model):
    """A partnership contact (chair or named contact): receives reminders, has no account."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("area_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the mail server refused this address for good; no mail goes to it until the
    # address is changed (app/operations/contacts.py).
    bouncing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounce_reply: Mapped[str | None] = mapped_column(String(500))

    @property
    def bouncing(self) -> bool:
        return self.bouncing_at is not None

    area: Mapped[Area] = relationship(back_populates="contacts")
