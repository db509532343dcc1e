"""Two-factor sign-in rules: which time-steps a code may match, how typed codes are read, and
who must set it up. Pure: the moment and the settings are parameters."""

from __future__ import annotations

import re

STEP_SECONDS = 30  # RFC 6238's time-step, what every authenticator app uses
CODE_DIGITS = 6
# Steps either side of the current one still accepted (a phone's clock a little out, or a code
# typed just as it changed).
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10
# No 0/o, 1/l/i: recovery codes are read off paper.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"

_TOTP_CODE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")


def current_step(timestamp: float, step_seconds: int = STEP_SECONDS) -> int:
    return int(timestamp) // step_seconds


def candidate_steps(
    timestamp: float, last_used: int | None, *, drift: int = DRIFT_STEPS
) -> list[int]:
    """The time-steps a code typed at `timestamp` may match, the current one first; steps at or
    before `last_used` are left out, so an accepted code can't be used again."""
    now = current_step(timestamp)
    steps = [now] + [now + d for k in range(1, drift + 1) for d in (-k, k)]
    return [step for step in steps if last_used is None or step > last_used]


def normalise_code(typed: str) -> str:
    """What was typed without spaces and hyphens, in lower case ('123 456', 'ABCDE-FGHIJ')."""
    return re.sub(r"[\s-]", "", typed).lower()


def is_totp_code(code: str) -> bool:
    """Six ASCII digits: a code from the app (anything else may be a recovery code)."""
    return bool(_TOTP_CODE.fullmatch(code))


def is_recovery_code(code: str) -> bool:
    return len(code) == RECOVERY_CODE_LENGTH and all(c in RECOVERY_ALPHABET for c in code)


def shown_recovery_code(code: str) -> str:
    """A recovery code as shown to the user: two groups of five."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def must_set_up(*, is_admin: bool, enabled: bool, required_for_admins: bool) -> bool:
    """Whether this account may use nothing until two-factor sign-in is on."""
    return required_for_admins and is_admin and not enabled
