"""Two-factor operations: setting up, codes used at most once, recovery codes, turning off,
an administrator's reset, and the audit trail of each."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, RecoveryCode
from app.operations.errors import UserError
from app.operations.two_factor import (
    APP,
    RECOVERY,
    begin_set_up,
    check_code,
    finish_set_up,
    provisioning_uri,
    recovery_codes_left,
    reset,
    turn_off,
)
from app.rules.vocabulary import AuditAction
from tests.factories import NOW, code_for, enable_two_factor, make_user

PASSWORD = "correct horse battery"


@pytest.fixture
def user(app):
    user = make_user("rep", email="rita@example.org", password=PASSWORD)
    db.session.commit()
    return user


def actions(user) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "user", AuditEntry.target_id == user.id)
            .order_by(AuditEntry.id)
        )
    )


def test_set_up_keeps_one_secret_until_finished(user):
    first = begin_set_up(user)
    assert len(first) == 32
    assert begin_set_up(user) == first
    assert not user.two_factor_enabled
    uri = provisioning_uri(user, first, "Big Local follow-up")
    assert uri.startswith("otpauth://totp/Big%20Local%20follow-up:rita%40example.org?secret=")


def test_a_wrong_code_does_not_turn_it_on(user):
    begin_set_up(user)
    wrong = f"{(int(code_for(user, NOW)) + 1) % 1_000_000:06d}"
    with pytest.raises(UserError, match="code is not right"):
        finish_set_up(user, wrong, now=NOW)
    assert not user.two_factor_enabled
    assert recovery_codes_left(user) == 0


def test_the_right_code_turns_it_on_with_ten_recovery_codes_stored_hashed(user):
    codes = enable_two_factor(user, NOW)
    assert user.two_factor_enabled_at == NOW
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    stored = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10
    assert not stored & {c.replace("-", "") for c in codes}  # only hashes are kept
    assert actions(user) == [AuditAction.TWO_FACTOR_ENABLED]


def test_the_set_up_code_cannot_sign_in_again(user):
    enable_two_factor(user, NOW)
    assert check_code(user, code_for(user, NOW), now=NOW) is None


def test_a_code_is_accepted_once_within_its_window(user):
    enable_two_factor(user, NOW)
    later = NOW + timedelta(minutes=5)
    code = code_for(user, later)
    assert check_code(user, code, now=later) == APP
    assert check_code(user, code, now=later + timedelta(seconds=10)) is None


def test_the_previous_steps_code_still_works_but_not_an_older_one(user):
    enable_two_factor(user, NOW)
    later = NOW + timedelta(minutes=5)
    assert check_code(user, code_for(user, later - timedelta(seconds=30)), now=later) == APP
    older = code_for(user, later + timedelta(minutes=1) - timedelta(seconds=60))
    assert check_code(user, older, now=later + timedelta(minutes=1)) is None


def test_after_a_newer_code_an_older_one_is_refused(user):
    enable_two_factor(user, NOW)
    later = NOW + timedelta(minutes=5)
    assert check_code(user, code_for(user, later + timedelta(seconds=30)), now=later) == APP
    assert check_code(user, code_for(user, later), now=later) is None


def test_a_recovery_code_works_once_however_it_is_typed(user, caplog):
    codes = enable_two_factor(user, NOW)
    typed = f"  {codes[0].upper().replace('-', ' ')} "
    with caplog.at_level(logging.INFO, logger="app"):
        assert check_code(user, typed, now=NOW) == RECOVERY
    db.session.commit()
    assert check_code(user, codes[0], now=NOW) is None
    assert recovery_codes_left(user) == 9
    assert actions(user)[-1] == AuditAction.RECOVERY_CODE_USED
    assert any(
        "recovery_code_used" in r.getMessage() and f"user={user.id}" in r.getMessage()
        for r in caplog.records
    )


def test_another_users_recovery_code_does_not_work(user):
    other = make_user("rep", password=PASSWORD)
    codes = enable_two_factor(other, NOW)
    enable_two_factor(user, NOW)
    assert check_code(user, codes[0], now=NOW) is None


def test_a_wrong_code_is_logged_as_a_warning(user, caplog):
    enable_two_factor(user, NOW)
    with caplog.at_level(logging.WARNING, logger="app"):
        assert check_code(user, "abcdefghjk", now=NOW) is None
    assert any(
        r.levelno == logging.WARNING and str(user.id) in r.getMessage() for r in caplog.records
    )


def test_turning_off_needs_the_password_or_a_code(user):
    enable_two_factor(user, NOW)
    with pytest.raises(UserError, match="not a current code"):
        turn_off(user, "not the password", now=NOW)
    assert user.two_factor_enabled
    later = NOW + timedelta(minutes=1)
    turn_off(user, code_for(user, later), now=later)
    db.session.commit()
    assert not user.two_factor_enabled and user.totp_secret is None
    assert recovery_codes_left(user) == 0
    enable_two_factor(user, later)
    turn_off(user, PASSWORD, now=later)
    assert actions(user)[-1] == AuditAction.TWO_FACTOR_DISABLED


def test_an_administrator_resets_it_with_an_audit_entry(user):
    admin = make_user("programme", admin=True)
    enable_two_factor(user, NOW)
    reset(user, actor=admin, now=NOW)
    db.session.commit()
    assert not user.two_factor_enabled and user.totp_secret is None
    assert recovery_codes_left(user) == 0
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.actor_id) == (AuditAction.TWO_FACTOR_RESET, admin.id)
    with pytest.raises(UserError, match="no two-factor sign-in to reset"):
        reset(user, actor=admin, now=NOW)
