"""Criteria (docs/rules.md#criteria), checked exhaustively for every roster of up to 12 counted
members."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rules.criteria import Thresholds, evaluate, evaluate_counts
from app.rules.vocabulary import Flag, Reason

ALL_ROSTERS = [(m, r) for m in range(0, 13) for r in range(0, m + 1)]


@pytest.mark.parametrize(("members", "residents"), ALL_ROSTERS)
def test_every_member_and_resident_count(members, residents):
    ev = evaluate_counts(members, residents)
    enough = members >= 8
    resident_led = residents > members / 2  # strictly over half
    expected_reasons = tuple(
        r
        for r, bad in (
            (Reason.TOO_FEW_MEMBERS, not enough),
            (Reason.NOT_RESIDENT_LED, not resident_led),
        )
        if bad
    )
    assert ev.reasons == expected_reasons
    if expected_reasons:
        assert ev.flag == Flag.UNDER_CRITERIA
    elif members == 8:
        assert ev.flag == Flag.AT_THRESHOLD
    else:
        assert ev.flag is None
    assert (ev.members, ev.residents) == (members, residents)


def test_eight_members_four_residents_is_under_criteria_not_resident_led():
    ev = evaluate_counts(8, 4)
    assert ev.flag == Flag.UNDER_CRITERIA
    assert ev.reasons == (Reason.NOT_RESIDENT_LED,)


def test_eight_members_five_residents_is_at_threshold():
    assert evaluate_counts(8, 5).flag == Flag.AT_THRESHOLD


def test_seven_members_all_residents_is_too_few():
    ev = evaluate_counts(7, 7)
    assert ev.reasons == (Reason.TOO_FEW_MEMBERS,)


def test_both_reasons_can_apply():
    assert evaluate_counts(5, 2).reasons == (Reason.TOO_FEW_MEMBERS, Reason.NOT_RESIDENT_LED)


def test_nine_members_five_residents_is_within_criteria_with_no_flag():
    assert evaluate_counts(9, 5).flag is None


def test_workers_and_lto_reps_are_not_counted():
    roster = [(True, "member")] * 7 + [(True, "worker"), (False, "lto_rep")]
    ev = evaluate(roster)
    assert (ev.members, ev.residents) == (7, 7)
    assert ev.flag == Flag.UNDER_CRITERIA


def test_a_non_resident_worker_does_not_tip_the_resident_share():
    roster = [(True, "chair")] * 5 + [(False, "member")] * 4 + [(False, "worker")] * 3
    assert evaluate(roster).flag is None


def test_thresholds_are_configuration():
    strict = Thresholds(min_members=10, resident_share=Fraction(2, 3))
    assert evaluate_counts(9, 9, strict).reasons == (Reason.TOO_FEW_MEMBERS,)
    assert evaluate_counts(12, 8, strict).reasons == (Reason.NOT_RESIDENT_LED,)
    assert evaluate_counts(10, 7, strict).flag == Flag.AT_THRESHOLD


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        evaluate_counts(3, 4)


@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.sampled_from(
                ["chair", "vice_chair", "treasurer", "secretary", "member", "worker", "lto_rep"]
            ),
        )
    )
)
def test_roster_evaluation_matches_counts(roster):
    counted = [res for res, role in roster if role not in ("worker", "lto_rep")]
    ev = evaluate(roster)
    assert ev == evaluate_counts(len(counted), sum(counted))
    assert ev.within_criteria == (len(counted) >= 8 and 2 * sum(counted) > len(counted))
