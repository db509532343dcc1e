"""User accounts: creation, passwords, set-password links, administration."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import cache

from flask import current_app, render_template
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import OutboxMessage, User
from app.operations.audit import record_user_audit
from app.operations.errors import UserError
from app.rules.vocabulary import USER_ROLES, UserRole

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_matches(user: User, password: str) -> bool:
    return user.password_hash is not None and check_password_hash(user.password_hash, password)


def normalise_email(email: str) -> str:
    from email_validator import EmailNotValidError, validate_email  # 20-40 ms: on first use

    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise UserError(f"'{email}' is not a valid email address: {exc}", field="email") from None


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
    _check_account(name, role, admin)
    if find_user(email) is not None:
        raise UserError(f"A user with the email {email} already exists.", field="email")
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
    _audit(
        actor_id,
        "user_created",
        user,
        f"Created {role} account for {email}" + (" (admin)" if admin else ""),
        now,
    )
    return user


# --- Signing in and passwords ------------------------------------------------------------------

SET_PASSWORD_SALT = "set-password"
SET_PASSWORD_MAX_AGE = timedelta(hours=72)


@cache
def _dummy_hash() -> str:
    """Compared when no account matches, so a wrong email costs as much time as a wrong
    password. Made on first use (a scrypt hash takes about 100 ms: not at every start-up)."""
    return generate_password_hash("not-a-real-password", method="scrypt")


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, else None (never says which was wrong)."""
    user = find_user(email) if email.strip() else None
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(), password)
        return None
    if not password_matches(user, password) or not user.active:
        return None
    return user


def record_sign_in(user: User, *, now: datetime) -> None:
    user.last_login_at = now


def _check_account(name: str, role: str, admin: bool) -> None:
    """What a new or changed account must be: a role, a name, and admin only in the programme."""
    if role not in USER_ROLES:
        raise UserError(f"Role must be 'rep' or 'programme', not '{role}'.", field="role")
    if not name.strip():
        raise UserError("A name is required.", field="name")
    if admin and role != UserRole.PROGRAMME:
        raise UserError("Only programme-team members can be administrators.", field="is_admin")


def _audit(actor_id: int | None, action: str, user: User, message: str, now: datetime, **data):
    record_user_audit(action, user.id, message, now=now, actor_id=actor_id, data=data)


def _store_password(user: User, password: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    # Other sessions and remember-me cookies carry the old version: they stop working.
    user.session_version = (user.session_version or 1) + 1


def change_password(user: User, *, current: str, new: str, now: datetime) -> None:
    """The user changes their own password; every other session of theirs is signed out."""
    if not password_matches(user, current):
        raise UserError("Your current password is wrong.")
    if current == new:
        raise UserError("Choose a new password that is different from the current one.")
    _store_password(user, new)
    _audit(user.id, "password_changed", user, f"{user.email} changed their password", now)


def set_password_from_link(user: User, password: str, *, now: datetime) -> None:
    """Set a password through a set-password link (which this makes unusable)."""
    _store_password(user, password)
    _audit(user.id, "password_set", user, f"{user.email} set a password from a link", now)


# --- Set-password links ------------------------------------------------------------------------


def _fingerprint(user: User) -> str:
    """Changes when the password or session version changes: a used link stops working."""
    raw = f"{user.id}:{user.password_hash or ''}:{user.session_version}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def clocked_serializer(salt: str, now: datetime) -> URLSafeTimedSerializer:
    """A signed, timed serializer whose clock is `now` (so what it signs can be made and
    checked at any moment, frozen clocks included)."""

    class _Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(now.timestamp())

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt, signer=_Signer)


def _serializer(now: datetime) -> URLSafeTimedSerializer:
    return clocked_serializer(SET_PASSWORD_SALT, now)


def make_set_password_token(user: User, now: datetime) -> str:
    return _serializer(now).dumps({"u": user.id, "f": _fingerprint(user)})


def make_set_password_link(user: User, now: datetime) -> str:
    """An absolute link (from BASE_URL) to set a password; valid 72 hours, once."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/set-password/{make_set_password_token(user, now)}"


def user_for_set_password_token(token: str, *, now: datetime) -> User:
    """The user a set-password link is for; UserError saying why when it can't be used."""
    serializer = _serializer(now)
    try:
        payload = serializer.loads(token, max_age=int(SET_PASSWORD_MAX_AGE.total_seconds()))
    except SignatureExpired:
        raise UserError(
            "This link has expired. Links to set a password work for 72 hours: "
            "ask an administrator for a new one."
        ) from None
    except BadSignature:
        raise UserError(
            "This link is not valid. Check that you copied the whole link from the email, "
            "or ask an administrator for a new one."
        ) from None
    user = db.session.get(User, payload.get("u")) if isinstance(payload, dict) else None
    if user is None or not user.active:
        raise UserError("This link is not valid any more: ask an administrator for help.")
    if payload.get("f") != _fingerprint(user):
        raise UserError(
            "This link has already been used. Sign in with your password, or ask an "
            "administrator for a new link."
        )
    return user


# Stored in the outbox in place of the link, which is made only when the mail is sent: the
# Outbox pages show the programme team every mail, and a link there would let them take the
# account over.
LINK_PLACEHOLDER = "[set-password link, made when the mail is sent, only for the recipient]"
SET_PASSWORD_KIND = "set_password"


def bodies_to_send(message: OutboxMessage, now: datetime) -> tuple[str, str]:
    """The text and HTML bodies to deliver: a set-password mail gets a fresh link here."""
    if message.kind != SET_PASSWORD_KIND:
        return message.body_text, message.body_html
    user_id = message.key.split(":")[1]
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active:
        raise UserError(f"The account for {message.recipient} is gone or deactivated.")
    link = make_set_password_link(user, now)
    return (
        message.body_text.replace(LINK_PLACEHOLDER, link),
        (message.body_html or "").replace(LINK_PLACEHOLDER, link),
    )


def send_set_password_link(user: User, *, actor_id: int | None, now: datetime) -> str:
    """Queue an email with a set-password link for `user` and return a link for the actor.

    The stored mail carries LINK_PLACEHOLDER, never the link."""
    link = make_set_password_link(user, now)
    context = {"user": user, "link": LINK_PLACEHOLDER, "hours": 72}
    db.session.add(
        OutboxMessage(
            key=f"setpw:{user.id}:{now.isoformat()}",
            kind=SET_PASSWORD_KIND,
            recipient=user.email,
            subject="Set your password for Big Local partnership follow-up",
            body_text=render_template("auth/email_set_password.txt", **context),
            body_html=render_template("auth/email_set_password.html", **context),
            not_before=now,
        )
    )
    _audit(actor_id, "set_password_link_sent", user, f"Set-password link sent to {user.email}", now)
    return link


# --- Administration ----------------------------------------------------------------------------


def update_user(
    user: User,
    *,
    actor: User,
    name: str,
    role: str,
    admin: bool,
    region: str | None,
    now: datetime,
) -> None:
    """Change a user's name, role, admin flag and region (not your own admin access)."""
    _check_account(name, role, admin)
    if user.id == actor.id and not (admin and role == UserRole.PROGRAMME):
        raise UserError("You can't remove your own administrator access.")
    changes = {}
    for attr, value in (
        ("name", name.strip()),
        ("role", role),
        ("is_admin", admin),
        ("region", (region or "").strip() or None),
    ):
        if getattr(user, attr) != value:
            changes[attr] = {"from": getattr(user, attr), "to": value}
            setattr(user, attr, value)
    if changes:
        summary = ", ".join(f"{k}: {v['from']} → {v['to']}" for k, v in changes.items())
        _audit(actor.id, "user_updated", user, f"Changed {user.email}: {summary}", now, **changes)


def deactivate_user(user: User, *, actor: User, now: datetime) -> None:
    """Stop a user signing in; their sessions and remember-me cookies stop working at once."""
    if user.id == actor.id:
        raise UserError("You can't deactivate your own account.")
    if not user.active:
        raise UserError(f"{user.email} is already deactivated.")
    user.active = False
    user.session_version = (user.session_version or 1) + 1
    _audit(actor.id, "user_deactivated", user, f"Deactivated {user.email}", now)


def reactivate_user(user: User, *, actor: User, now: datetime) -> None:
    if user.active:
        raise UserError(f"{user.email} is already active.")
    user.active = True
    _audit(actor.id, "user_reactivated", user, f"Reactivated {user.email}", now)
