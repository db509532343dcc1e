"""Two-factor sign-in: setting it up, checking codes (each at most once), recovery codes,
turning it off, and an administrator's reset. Each change writes its audit entry."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, func, or_, select, update

from app.extensions import db
from app.models import RecoveryCode, User
from app.operations.audit import record_user_audit
from app.operations.errors import UserError
from app.operations.rows import rowcount
from app.operations.users import password_matches
from app.rules.two_factor import (
    RECOVERY_ALPHABET,
    RECOVERY_CODE_COUNT,
    RECOVERY_CODE_LENGTH,
    STEP_SECONDS,
    candidate_steps,
    is_recovery_code,
    is_totp_code,
    normalise_code,
    shown_recovery_code,
)
from app.rules.vocabulary import AuditAction

log = logging.getLogger(__name__)

WRONG_CODE = (
    "That code is not right, or it has been used already. Enter the code your app shows now."
)
APP, RECOVERY = "app", "recovery"


def begin_set_up(user: User) -> str:
    """The secret to show while setting up: the same one until set-up is finished."""
    if user.two_factor_enabled:
        raise UserError("Two-factor sign-in is already on for this account.")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()  # 32 characters, 160 bits
    return user.totp_secret


def provisioning_uri(user: User, secret: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=issuer
    )


def finish_set_up(user: User, typed: str, *, now: datetime) -> list[str]:
    """Turn two-factor sign-in on once the app's code is right; returns the recovery codes
    (only their hashes are kept, so this is the one time they can be shown)."""
    if user.two_factor_enabled:
        raise UserError("Two-factor sign-in is already on for this account.")
    if not user.totp_secret:
        raise UserError("Setting up was interrupted: start again from your account page.")
    code = normalise_code(typed)
    step = _matching_step(user.totp_secret, code, now, None) if is_totp_code(code) else None
    if step is None:
        raise UserError(
            "That code is not right. Check the app shows this account, then enter the "
            "6-digit code it shows now."
        )
    user.two_factor_enabled_at = now
    user.totp_last_step = step
    codes = _new_recovery_codes(user, now)
    _audit(
        user.id,
        AuditAction.TWO_FACTOR_ENABLED,
        user,
        f"{user.email} turned on two-factor sign-in",
        now,
    )
    return codes


def check_code(user: User, typed: str, *, now: datetime) -> str | None:
    """APP or RECOVERY when `typed` is a good code, which is then spent; None when it is not."""
    code = normalise_code(typed)
    if user.two_factor_enabled and is_totp_code(code) and _spend_step(user, code, now):
        return APP
    if user.two_factor_enabled and is_recovery_code(code) and _spend_recovery(user, code, now):
        return RECOVERY
    log.warning("two-factor code refused for user %s", user.id)
    return None


def recovery_codes_left(user: User) -> int:
    left = db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return int(left or 0)


def turn_off(user: User, proof: str, *, now: datetime) -> None:
    """The user turns two-factor sign-in off, proving it is them with a code or their password."""
    if not user.two_factor_enabled:
        raise UserError("Two-factor sign-in is already off.")
    if not (password_matches(user, proof) or check_code(user, proof, now=now)):
        raise UserError(
            "That is not a current code from your app, a recovery code or your password."
        )
    _clear(user)
    _audit(
        user.id,
        AuditAction.TWO_FACTOR_DISABLED,
        user,
        f"{user.email} turned off two-factor sign-in",
        now,
    )


def reset(user: User, *, actor: User, now: datetime) -> None:
    """An administrator removes a user's two-factor sign-in (a lost phone); the user signs in
    with their password next time, and sets it up again."""
    if not (user.two_factor_enabled or user.totp_secret):
        raise UserError(f"{user.email} has no two-factor sign-in to reset.")
    _clear(user)
    _audit(
        actor.id,
        AuditAction.TWO_FACTOR_RESET,
        user,
        f"Reset two-factor sign-in of {user.email}",
        now,
    )


# --- Codes ---------------------------------------------------------------------------------


def _matching_step(secret: str, code: str, now: datetime, last_used: int | None) -> int | None:
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    for step in candidate_steps(now.timestamp(), last_used):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _spend_step(user: User, code: str, now: datetime) -> bool:
    step = _matching_step(user.totp_secret or "", code, now, user.totp_last_step)
    if step is None:
        return False
    # One statement, so of two requests with the same code only one moves the step on.
    spent = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    return rowcount(spent) == 1


def _spend_recovery(user: User, code: str, now: datetime) -> bool:
    spent = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hashed(user, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(spent) != 1:
        return False
    left = recovery_codes_left(user)
    _audit(
        user.id,
        AuditAction.RECOVERY_CODE_USED,
        user,
        f"{user.email} signed in with a recovery code ({left} left)",
        now,
        left=left,
    )
    return True


def _new_recovery_codes(user: User, now: datetime) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hashed(user, code), created_at=now)
        for code in codes
    )
    return [shown_recovery_code(code) for code in codes]


def _hashed(user: User, code: str) -> str:
    # Codes are random (50 bits), so a fast hash is enough; the user id keeps equal codes of
    # two users apart.
    return hashlib.sha256(f"{user.id}:{code}".encode()).hexdigest()


def _clear(user: User) -> None:
    user.totp_secret = None
    user.two_factor_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _audit(actor_id: int, action: str, user: User, message: str, now: datetime, **data) -> None:
    record_user_audit(action, user.id, message, now=now, actor_id=actor_id, data=data)
