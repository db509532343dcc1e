"""Big Local partnership criteria (SPEC 2.2): a pure function of a roster."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

UNDER_CRITERIA = "under_criteria"
AT_THRESHOLD = "at_threshold"
TOO_FEW_MEMBERS = "too_few_members"
NOT_RESIDENT_LED = "not_resident_led"

# Workers and LTO representatives sit on partnerships but are not counted members.
UNCOUNTED_ROLES = frozenset({"worker", "lto_rep"})

REASON_WORDS = {
    TOO_FEW_MEMBERS: "fewer than the required number of members",
    NOT_RESIDENT_LED: "residents are not more than half of the members",
}
FLAG_WORDS = {UNDER_CRITERIA: "Under criteria", AT_THRESHOLD: "At threshold (exactly eight)"}


@dataclass(frozen=True)
class Thresholds:
    min_members: int = 8
    # Residents must be strictly more than this share of counted members.
    resident_share: Fraction = Fraction(1, 2)


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Evaluation:
    flag: str | None
    reasons: tuple[str, ...]
    members: int
    residents: int

    @property
    def within_criteria(self) -> bool:
        return self.flag != UNDER_CRITERIA


def evaluate_counts(
    members: int, residents: int, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Evaluation:
    """Evaluate counted members and residents against the criteria."""
    if members < 0 or residents < 0 or residents > members:
        raise ValueError(f"impossible roster: {members} members, {residents} residents")
    reasons: list[str] = []
    if members < thresholds.min_members:
        reasons.append(TOO_FEW_MEMBERS)
    # residents / members > share, kept in integers: residents * den > members * num.
    share = thresholds.resident_share
    if not residents * share.denominator > members * share.numerator:
        reasons.append(NOT_RESIDENT_LED)
    if reasons:
        flag: str | None = UNDER_CRITERIA
    elif members == thresholds.min_members:
        flag = AT_THRESHOLD
    else:
        flag = None
    return Evaluation(flag, tuple(reasons), members, residents)


def evaluate(
    roster: Iterable[tuple[bool, str]], thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Evaluation:
    """Evaluate a roster given as (resident, role) pairs; workers and LTO reps do not count."""
    members = residents = 0
    for resident, role in roster:
        if role in UNCOUNTED_ROLES:
            continue
        members += 1
        residents += 1 if resident else 0
    return evaluate_counts(members, residents, thresholds)
