"""Two-factor rules: the time-steps a code may match, typed codes, who must set it up."""

from __future__ import annotations

import pytest

from app.rules.two_factor import (
    candidate_steps,
    grouped_secret,
    is_recovery_code,
    is_totp_code,
    must_set_up,
    normalise_code,
    shown_recovery_code,
)

T = 1_800_000_000  # a moment exactly at the start of step 60,000,000


def test_the_current_step_comes_first_then_one_either_side():
    assert candidate_steps(T + 29, None) == [60_000_000, 59_999_999, 60_000_001]


def test_steps_at_or_before_the_last_used_one_are_left_out():
    assert candidate_steps(T, 60_000_000) == [60_000_001]
    assert candidate_steps(T, 59_999_999) == [60_000_000, 60_000_001]
    assert candidate_steps(T, 60_000_001) == []


@pytest.mark.parametrize(
    "typed, code", [("123 456", "123456"), (" 123-456 ", "123456"), ("ABCDE-FGHJK", "abcdefghjk")]
)
def test_typed_codes_lose_spaces_hyphens_and_capitals(typed, code):
    assert normalise_code(typed) == code


@pytest.mark.parametrize("code", ["123456", "000000"])
def test_six_ascii_digits_are_an_app_code(code):
    assert is_totp_code(code)


@pytest.mark.parametrize("code", ["12345", "1234567", "12345a", "１２３４５６", "²23456"])
def test_anything_else_is_not_an_app_code(code):
    assert not is_totp_code(code)


def test_recovery_codes_use_letters_that_are_not_confused():
    assert is_recovery_code("abcdefghjk")
    assert not is_recovery_code("abcdefghij")  # i is left out (like 1, l, 0, o)
    assert not is_recovery_code("abcdefghj")


def test_codes_and_secrets_are_shown_in_groups():
    assert shown_recovery_code("abcdefghjk") == "abcde-fghjk"
    assert grouped_secret("ABCDEFGHIJKL") == "ABCD EFGH IJKL"


@pytest.mark.parametrize(
    "is_admin, enabled, required, expected",
    [
        (True, False, True, True),
        (True, True, True, False),
        (True, False, False, False),
        (False, False, True, False),
    ],
)
def test_only_admins_without_it_must_set_it_up_and_only_when_required(
    is_admin, enabled, required, expected
):
    assert must_set_up(is_admin=is_admin, enabled=enabled, required_for_admins=required) is expected
