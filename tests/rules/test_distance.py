"""Distance to criteria, checked exhaustively against the criteria for every small roster."""

from fractions import Fraction

import pytest

from app.rules.criteria import Thresholds, evaluate_counts
from app.rules.distance import (
    Distance,
    criteria_sentence,
    describe_distance,
    distance_to_criteria,
    standing,
)
from app.rules.vocabulary import Flag

ALL_ROSTERS = [(m, r) for m in range(0, 16) for r in range(0, m + 1)]
SHARES = [Thresholds(), Thresholds(6, Fraction(1, 2)), Thresholds(8, Fraction(2, 3))]


def _within(members, residents, thresholds):
    return evaluate_counts(members, residents, thresholds).flag != Flag.UNDER_CRITERIA


@pytest.mark.parametrize("thresholds", SHARES)
@pytest.mark.parametrize(("members", "residents"), ALL_ROSTERS)
def test_distance_is_the_fewest_additions_that_bring_it_within(members, residents, thresholds):
    d = distance_to_criteria(members, residents, thresholds)
    assert d.within_criteria == _within(members, residents, thresholds)
    # Adding what it says brings it within criteria...
    assert _within(members + d.more_members, residents + d.of_them_residents, thresholds)
    # ...and nothing smaller does: fewer members (even all residents), or fewer residents.
    if d.more_members:
        fewer = d.more_members - 1
        assert not _within(members + fewer, residents + fewer, thresholds)
    if d.of_them_residents:
        assert not _within(
            members + d.more_members, residents + d.of_them_residents - 1, thresholds
        )
    assert 0 <= d.of_them_residents <= d.more_members


@pytest.mark.parametrize(("members", "residents"), ALL_ROSTERS)
def test_at_risk_means_some_single_departure_puts_it_under(members, residents):
    d = distance_to_criteria(members, residents)
    if not d.within_criteria:
        assert not d.one_leaving_puts_under
        return
    departures = []
    if residents:
        departures.append((members - 1, residents - 1))
    if members - residents:
        departures.append((members - 1, residents))
    any_breaks = any(not _within(m, r, Thresholds()) for m, r in departures)
    assert d.one_leaving_puts_under == any_breaks


def test_eight_members_is_one_departure_from_under_criteria():
    assert distance_to_criteria(8, 5).one_leaving_puts_under
    assert describe_distance(distance_to_criteria(8, 5)) == (
        "one member leaving would put it under criteria"
    )
    assert describe_distance(distance_to_criteria(8, 5), subject="you") == (
        "one member leaving would put you under criteria"
    )


def test_words_for_the_common_cases():
    assert describe_distance(distance_to_criteria(6, 4)) == (
        "needs 2 more members, at least one of them a resident"
    )
    assert describe_distance(distance_to_criteria(7, 3)) == (
        "needs 2 more members, both of them residents"
    )
    assert describe_distance(distance_to_criteria(7, 7)) == "needs 1 more member"
    assert describe_distance(distance_to_criteria(8, 4)) == "needs 1 more member, a resident"
    assert describe_distance(distance_to_criteria(12, 9)) == "within criteria"
    assert describe_distance(Distance(5, 3, False)) == (
        "needs 5 more members, at least 3 of them residents"
    )
    assert describe_distance(Distance(3, 3, False)) == (
        "needs 3 more members, all of them residents"
    )


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        distance_to_criteria(3, 4)


# --- where the partnership stands, in its own words (the personal page) --------------------


def test_eight_members_five_residents_stand_within_but_one_leaving_puts_you_under():
    result = standing(8, 5)
    assert result.stands == (
        "8 members, 5 of them residents: within criteria,"
        " but one member leaving would put you under"
    )
    assert result.bring_back is None


def test_seven_members_say_what_would_bring_them_back():
    result = standing(7, 5)
    assert result.stands == "7 members, 5 of them residents: under criteria (fewer than 8 members)"
    assert result.bring_back == "1 more member"


def test_not_resident_led_says_how_many_residents_are_needed():
    result = standing(8, 4)
    assert "residents are not more than half of the members" in result.stands
    assert result.bring_back == "1 more member, a resident"


def test_a_comfortable_partnership_is_simply_within_criteria():
    assert standing(12, 9).stands == "12 members, 9 of them residents: within criteria"


def test_the_criteria_sentence_names_the_configured_minimum():
    assert "at least 10 members" in criteria_sentence(Thresholds(min_members=10))
    assert "more than half of them live in the area" in criteria_sentence()
