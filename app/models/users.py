"""Staff accounts: reps and the programme team."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import Model
from app.models.types import UTCDateTime
from app.rules.vocabulary import USER_ROLES, UserRole, sql_in


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(sql_in("role", USER_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    region: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change or deactivation: old sessions and remember-me cookies die.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor sign-in: the authenticator secret (set when enrolment starts), when it was
    # turned on (None: off), and the last time-step whose code was accepted (no reuse).
    totp_secret: Mapped[str | None] = mapped_column(String(32))
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    @property
    def two_factor_enabled(self) -> bool:
        return self.two_factor_enabled_at is not None

    @property
    def is_programme(self) -> bool:
        return self.role == UserRole.PROGRAMME

    @property
    def is_rep(self) -> bool:
        return self.role == UserRole.REP

    # The token of the server-side session this object was loaded for (app/operations/sessions).
    # Not a column: declared for the type checker only (a bare annotation would be mapped).
    if TYPE_CHECKING:
        session_token: str | None
    else:
        session_token = None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}:{self.session_token or ''}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
