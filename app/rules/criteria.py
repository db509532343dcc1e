"""Big Local partnership criteria (docs/rules.md#criteria): a pure function of a roster."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from app.rules.vocabulary import UNCOUNTED_ROLES, Flag, Reason


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
        return self.flag != Flag.UNDER_CRITERIA


def evaluate_counts(
    members: int, residents: int, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Evaluation:
    """Evaluate counted members and residents against the criteria."""
    if members < 0 or residents < 0 or residents > members:
        raise ValueError(f"impossible roster: {members} members, {residents} residents")
    reasons: list[str] = []
    if members < thresholds.min_members:
        reasons.append(Reason.TOO_FEW_MEMBERS)
    # residents / members > share, kept in integers: residents * den > members * num.
    share = thresholds.resident_share
    if not residents * share.denominator > members * share.numerator:
        reasons.append(Reason.NOT_RESIDENT_LED)
    if reasons:
        flag: str | None = Flag.UNDER_CRITERIA
    elif members == thresholds.min_members:
        flag = Flag.AT_THRESHOLD
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
