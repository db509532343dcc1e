"""Case rules (docs/rules.md#cases): every (open case, new flag) pair, and the status machine."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rules.cases import (
    OpenCaseState,
    Outcome,
    TransitionError,
    allowed_transitions,
    check_transition,
    decide,
)

U, T = "under_criteria", "at_threshold"


def test_no_case_and_no_flag_does_nothing():
    assert decide(None, None).outcome is Outcome.NOTHING


@pytest.mark.parametrize("flag", [U, T])
def test_no_case_and_a_flag_opens_a_case_with_that_flag(flag):
    d = decide(None, flag)
    assert (d.outcome, d.flag, d.set_returned) == (Outcome.OPEN, flag, False)


def test_open_under_criteria_case_going_to_no_flag_resolves_and_counts_as_returned():
    d = decide(OpenCaseState(U, returned=False), None)
    assert (d.outcome, d.set_returned) == (Outcome.RESOLVE, True)


def test_open_at_threshold_case_going_to_no_flag_resolves_without_a_return():
    d = decide(OpenCaseState(T, returned=False), None)
    assert (d.outcome, d.set_returned) == (Outcome.RESOLVE, False)


def test_resolving_after_an_earlier_return_does_not_return_again():
    d = decide(OpenCaseState(T, returned=True), None)
    assert (d.outcome, d.set_returned) == (Outcome.RESOLVE, False)


def test_under_criteria_to_at_threshold_is_a_return_and_stays_open():
    d = decide(OpenCaseState(U, returned=False), T)
    assert (d.outcome, d.flag, d.set_returned) == (Outcome.RETURN, T, True)


def test_second_return_after_escalation_keeps_the_first_return_date():
    d = decide(OpenCaseState(U, returned=True), T)
    assert (d.outcome, d.flag, d.set_returned) == (Outcome.RETURN, T, False)


@pytest.mark.parametrize("returned", [False, True])
def test_at_threshold_to_under_criteria_escalates(returned):
    d = decide(OpenCaseState(T, returned=returned), U)
    assert (d.outcome, d.flag, d.set_returned) == (Outcome.ESCALATE, U, False)


@pytest.mark.parametrize("flag", [U, T])
@pytest.mark.parametrize("returned", [False, True])
def test_same_flag_again_only_updates(flag, returned):
    d = decide(OpenCaseState(flag, returned=returned), flag)
    assert (d.outcome, d.flag, d.set_returned) == (Outcome.UPDATE, flag, False)


def test_unknown_flag_is_refused():
    with pytest.raises(ValueError):
        decide(None, "sideways")


@given(st.lists(st.sampled_from([None, U, T]), max_size=30))
def test_any_sequence_keeps_at_most_one_open_case_and_returns_once_per_case(flags):
    """Replaying any sequence of flags: cases never reopen, returned is set at most once."""
    open_case, cases = None, []
    for flag in flags:
        d = decide(open_case, flag)
        if d.outcome is Outcome.OPEN:
            cases.append({"returns": 0})
            open_case = OpenCaseState(d.flag, False)
        elif d.outcome is not Outcome.NOTHING:
            assert open_case is not None
            cases[-1]["returns"] += d.set_returned
            if d.outcome is Outcome.RESOLVE:
                open_case = None
            else:
                open_case = OpenCaseState(d.flag, open_case.returned or d.set_returned)
        # invariant: an open case's flag is the snapshot's flag
        if open_case is not None:
            assert open_case.flag == flag
        else:
            assert flag is None
    assert all(c["returns"] <= 1 for c in cases)


# --- status machine ---


def test_forward_path_for_a_rep():
    assert allowed_transitions("new", "rep") == ("contacted",)
    assert allowed_transitions("contacted", "rep") == ("plan_agreed",)
    assert allowed_transitions("plan_agreed", "rep") == ("monitoring",)
    assert allowed_transitions("monitoring", "rep") == ("plan_agreed",)


@pytest.mark.parametrize("status", ["new", "contacted", "plan_agreed", "monitoring"])
def test_programme_team_may_also_close_any_open_case(status):
    assert "closed" in allowed_transitions(status, "programme")
    assert "closed" not in allowed_transitions(status, "rep")


@pytest.mark.parametrize("status", ["resolved", "closed"])
@pytest.mark.parametrize("role", ["rep", "programme"])
def test_finished_cases_allow_nothing(status, role):
    assert allowed_transitions(status, role) == ()
    with pytest.raises(TransitionError):
        check_transition(status, "contacted", role)


STATUSES = ["new", "contacted", "plan_agreed", "monitoring", "resolved", "closed"]


@pytest.mark.parametrize("source", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
@pytest.mark.parametrize("role", ["rep", "programme"])
def test_check_transition_agrees_with_allowed_transitions(source, target, role):
    allowed = target in allowed_transitions(source, role)
    if allowed:
        check_transition(source, target, role, reason="left the programme")
    else:
        with pytest.raises(TransitionError):
            check_transition(source, target, role, reason="left the programme")


def test_nobody_sets_resolved_by_hand():
    with pytest.raises(TransitionError, match="rules"):
        check_transition("monitoring", "resolved", "programme")


def test_closing_needs_a_reason():
    with pytest.raises(TransitionError, match="reason"):
        check_transition("new", "closed", "programme", reason="  ")


# --- what "plan agreed" needs -----------------------------------------------------------------

from datetime import date as _date  # noqa: E402

from app.rules.cases import PlanFacts, plan_gaps  # noqa: E402

TODAY = _date(2026, 12, 1)
GOOD = PlanFacts(barriers=1, target_members=8, target_on=_date(2026, 12, 2), open_actions=1)


def test_a_complete_plan_has_no_gaps():
    assert plan_gaps(GOOD, TODAY, 8) == ()


def test_no_plan_lacks_everything():
    assert plan_gaps(None, TODAY, 8) == (
        "at least one barrier",
        "a target of at least 8 members",
        "a target date in the future",
        "at least one open action",
    )


@pytest.mark.parametrize(
    ("change", "gap"),
    [
        ({"barriers": 0}, "at least one barrier"),
        ({"target_members": None}, "a target of at least 8 members"),
        ({"target_members": 7}, "a target of at least 8 members"),
        ({"target_on": None}, "a target date in the future"),
        ({"target_on": TODAY}, "a target date in the future"),
        ({"target_on": _date(2026, 1, 1)}, "a target date in the future"),
        ({"open_actions": 0}, "at least one open action"),
    ],
)
def test_each_missing_part_is_named_alone(change, gap):
    from dataclasses import replace

    assert plan_gaps(replace(GOOD, **change), TODAY, 8) == (gap,)


def test_the_minimum_follows_the_criteria_setting():
    assert plan_gaps(GOOD, TODAY, 6) == ()
    assert plan_gaps(GOOD, TODAY, 9) == ("a target of at least 9 members",)
