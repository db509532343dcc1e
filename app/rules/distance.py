"""Distance to criteria: what a partnership's roster needs to be within criteria again.

A pure function of the counts (see docs or `criteria.py` for the criteria themselves). It
answers the two questions a rep and a partnership ask: "what would bring us back?" (the fewest
new counted members, and how many of them must be residents) and, for a partnership exactly at
the minimum, "how close are we to falling under?".
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from app.rules.criteria import DEFAULT_THRESHOLDS, Thresholds, evaluate_counts
from app.rules.vocabulary import Flag, Reason


@dataclass(frozen=True)
class Distance:
    more_members: int  # fewest counted members to add (0 when within criteria)
    of_them_residents: int  # how many of those must be residents
    one_leaving_puts_under: bool  # within criteria, but any one member leaving breaks it

    @property
    def within_criteria(self) -> bool:
        return self.more_members == 0


def distance_to_criteria(
    members: int, residents: int, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Distance:
    """The fewest counted members (and residents among them) that bring a roster within criteria.

    Only additions are considered: the partnership recruits, nobody is asked to leave.
    """
    evaluate_counts(members, residents, thresholds)  # validates the counts
    num, den = thresholds.resident_share.numerator, thresholds.resident_share.denominator
    # Adding `a` residents: need members + a >= min and (residents + a) * den > (members + a) * num.
    # The second is a * (den - num) > members * num - residents * den.
    gap = members * num - residents * den
    by_share = gap // (den - num) + 1 if gap >= 0 else 0
    more = max(0, thresholds.min_members - members, by_share)
    if more == 0:
        # A resident leaving is the worst single departure: it lowers the count and the share.
        at_risk = (
            evaluate_counts(members - 1, residents - 1, thresholds).flag == Flag.UNDER_CRITERIA
        )
        return Distance(0, 0, at_risk)
    # Among `more` new members, the fewest residents r' with (residents + r') * den > total * num.
    total = members + more
    need = (total * num) // den + 1 - residents
    return Distance(more, max(0, need), False)


def _members(n: int) -> str:
    return f"{n} more member" if n == 1 else f"{n} more members"


def describe_distance(distance: Distance, *, subject: str = "it") -> str:
    """Plain words: 'needs 2 more members, at least one of them a resident'.

    `subject` is who is put under in the at-risk sentence ("it" for staff, "you" for a partnership).
    """
    if distance.within_criteria:
        if distance.one_leaving_puts_under:
            return f"one member leaving would put {subject} under criteria"
        return "within criteria"
    words = "needs " + _members(distance.more_members)
    residents = distance.of_them_residents
    if residents == 0:
        return words
    if residents == distance.more_members:
        if residents == 1:
            return words + ", a resident"
        if residents == 2:
            return words + ", both of them residents"
        return words + ", all of them residents"
    if residents == 1:
        return words + ", at least one of them a resident"
    return words + f", at least {residents} of them residents"


@dataclass(frozen=True)
class Standing:
    """Where a partnership stands, in words for the partnership itself."""

    stands: str  # "8 members, 5 of them residents: within criteria, but one member leaving ..."
    bring_back: str | None  # "2 more members, at least one of them a resident" (None: within)


def _counted(members: int, residents: int) -> str:
    people = "1 member" if members == 1 else f"{members} members"
    if members == 0:
        return "no counted members"
    of_them = "none of them residents" if residents == 0 else f"{residents} of them residents"
    if residents == 1:
        of_them = "1 of them a resident"
    return f"{people}, {of_them}"


def criteria_sentence(thresholds: Thresholds = DEFAULT_THRESHOLDS) -> str:
    """The criteria in one sentence, for a partnership."""
    share = thresholds.resident_share
    part = "half" if share == Fraction(1, 2) else f"{share.numerator} in {share.denominator}"
    return (
        f"A Big Local partnership is within criteria when it has at least "
        f"{thresholds.min_members} members and more than {part} of them live in the area "
        "(workers and LTO reps sit on it but are not counted)."
    )


def standing(members: int, residents: int, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Standing:
    """Where the partnership stands and, when under criteria, what would bring it back."""
    counted = _counted(members, residents)
    distance = distance_to_criteria(members, residents, thresholds)
    if distance.within_criteria:
        if distance.one_leaving_puts_under:
            words = f"{counted}: within criteria, but one member leaving would put you under"
            return Standing(words, None)
        return Standing(f"{counted}: within criteria", None)
    reasons = []
    evaluation = evaluate_counts(members, residents, thresholds)
    if Reason.TOO_FEW_MEMBERS in evaluation.reasons:
        reasons.append(f"fewer than {thresholds.min_members} members")
    if Reason.NOT_RESIDENT_LED in evaluation.reasons:
        reasons.append("residents are not more than half of the members")
    words = f"{counted}: under criteria ({' and '.join(reasons)})"
    return Standing(words, describe_distance(distance).removeprefix("needs "))
