"""User accounts: creation, passwords."""

from __future__ import annotations

from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import AuditEntry, User
from app.operations.errors import UserError

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_matches(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise UserError(f"'{email}' is not a valid email address: {exc}") from None


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    *,
    email: str,
    name: str,
    role: str,
    admin: bool = False,
    password: str | None = None,
    region: str | None = None,
    actor_id: int | None = None,
    now: datetime,
) -> User:
    """Create a staff account (no password: they set one through a link)."""
    email = normalise_email(email)
    if role not in ("rep", "programme"):
        raise UserError(f"Role must be 'rep' or 'programme', not '{role}'.")
    if not name.strip():
        raise UserError("A name is required.")
    if find_user(email) is not None:
        raise UserError(f"A user with the email {email} already exists.")
    if password is not None:
        check_password_strength(password)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        is_admin=admin,
        region=region,
        password_hash=hash_password(password) if password else None,
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    db.session.add(
        AuditEntry(
            actor_id=actor_id,
            action="user_created",
            target_type="user",
            target_id=user.id,
            message=f"Created {role} account for {email}" + (" (admin)" if admin else ""),
            created_at=now,
        )
    )
    return user
