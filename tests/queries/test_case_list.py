"""The programme case list query: each filter narrows, sorts order, pages add up, and the
query count does not grow with the data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Action, ActionPlan, Case
from app.queries.case_filters import CaseFilters
from app.queries.case_list import all_case_rows, list_page, unassigned_open_cases
from tests.factories import add_snapshot, make_area, make_user
from tests.querycount import count_queries

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def ids(rows) -> list[int]:
    return [r.case_id for r in rows]


def filtered(**args) -> set[int]:
    f, errors = CaseFilters.from_args({k: str(v) for k, v in args.items()})
    assert errors == []
    rows, total = list_page(f, NOW, 1, 500)
    assert total == len(rows)
    return set(ids(rows))


def case_of(area) -> Case:
    return db.session.query(Case).filter_by(area_id=area.id).order_by(Case.id.desc()).first()


def add_action(case: Case, due_on: date, status: str = "open") -> Action:
    plan = case.plan if getattr(case, "plan", None) else ActionPlan(case=case)
    action = Action(plan=plan, description="Recruit", owner="partnership", due_on=due_on)
    action.status = status
    db.session.add_all([plan, action])
    db.session.flush()
    return action


@pytest.fixture
def programme(app):
    """A small programme with one case of each kind, keyed by what makes it special."""
    north = make_user("rep", region="North", name="Nora North")
    south = make_user("rep", region="South", name="Sam South")
    c = {}
    a = make_area("BL001", rep=north)
    add_snapshot(a, 6, 4, year=2021)  # under criteria, new
    c["plain"] = case_of(a)
    a = make_area("BL002", rep=south)
    add_snapshot(a, 8, 5, year=2021)  # at threshold
    c["threshold"] = case_of(a)
    a = make_area("BL003")
    add_snapshot(a, 6, 2, year=2020)  # opened by the 2020 review, unassigned
    c["unassigned"] = case_of(a)
    a = make_area("BL004", rep=north)
    add_snapshot(a, 6, 4, year=2020)
    add_snapshot(a, 8, 5, year=2021)  # returned within criteria, still open
    c["returned"] = case_of(a)
    a = make_area("BL005", rep=south)
    add_snapshot(a, 8, 5, year=2020)
    add_snapshot(a, 6, 4, year=2021)  # escalated
    c["escalated"] = case_of(a)
    a = make_area("BL006", rep=north)
    add_snapshot(a, 6, 4, year=2020)
    add_snapshot(a, 10, 7, year=2021)  # resolved
    c["resolved"] = case_of(a)
    a = make_area("BL007", rep=south)
    add_snapshot(a, 6, 4, year=2021, now=NOW - timedelta(days=40))  # stale
    c["stale"] = case_of(a)
    a = make_area("BL008", rep=north)
    add_snapshot(a, 7, 4, year=2021)
    c["overdue"] = case_of(a)
    add_action(c["overdue"], date(2026, 11, 1))
    add_action(c["plain"], date(2026, 12, 1))  # due later: not overdue
    add_action(c["threshold"], date(2026, 11, 1), status="done")  # done: not overdue
    c["plain"].contacted_at = NOW
    db.session.flush()
    return {"north": north, "south": south, "cases": {k: v.id for k, v in c.items()}}


def test_default_lists_open_cases_only(programme):
    cases = programme["cases"]
    assert filtered() == set(cases.values()) - {cases["resolved"]}


def test_status_all_and_single_status(programme):
    cases = programme["cases"]
    assert filtered(status="all") == set(cases.values())
    assert filtered(status="resolved") == {cases["resolved"]}


def test_flag_filter(programme):
    cases = programme["cases"]
    assert filtered(flag="at_threshold") == {cases["threshold"], cases["returned"]}


def test_rep_and_region_filters(programme):
    cases = programme["cases"]
    south = {cases["threshold"], cases["escalated"], cases["stale"]}
    assert filtered(rep_id=programme["south"].id) == south
    assert filtered(region="South") == south


def test_area_filter_by_code_or_name(programme):
    cases = programme["cases"]
    assert filtered(area="bl003") == {cases["unassigned"]}
    assert len(filtered(area="Test Area")) == 7


def test_boolean_filters(programme):
    cases = programme["cases"]
    assert filtered(unassigned=1) == {cases["unassigned"]}
    assert filtered(overdue=1) == {cases["overdue"]}
    assert filtered(returned=1) == {cases["returned"]}
    assert filtered(escalated=1) == {cases["escalated"]}
    assert filtered(stale=1) == {cases["stale"]}
    assert filtered(reached="contacted") == {cases["plain"]}


def test_cohort_and_date_ranges(programme):
    cases = programme["cases"]
    assert filtered(cohort=2020, status="all") == {
        cases["unassigned"],
        cases["returned"],
        cases["escalated"],
        cases["resolved"],
    }
    assert filtered(opened_from="2021-01-01") == {
        cases["plain"],
        cases["threshold"],
        cases["stale"],
        cases["overdue"],
    }
    assert filtered(status="all", resolved_from="2021-09-01", resolved_to="2021-10-01") == {
        cases["resolved"]
    }


def test_urgency_puts_overdue_then_escalated_then_oldest_activity(programme):
    rows, _ = list_page(CaseFilters(), NOW, 1, 50)
    cases = programme["cases"]
    assert ids(rows)[:3] == [cases["overdue"], cases["escalated"], cases["stale"]]


def test_other_sorts(programme):
    opened = ids(list_page(CaseFilters(sort="opened"), NOW, 1, 50)[0])
    newest = ids(list_page(CaseFilters(sort="-opened"), NOW, 1, 50)[0])
    by_area = list_page(CaseFilters(sort="area"), NOW, 1, 50)[0]
    by_activity = ids(list_page(CaseFilters(sort="activity"), NOW, 1, 50)[0])
    cases = programme["cases"]
    assert set(opened[:3]) == {cases["unassigned"], cases["returned"], cases["escalated"]}
    assert set(newest[:4]) == {cases["plain"], cases["threshold"], cases["stale"], cases["overdue"]}
    assert [r.area_code for r in by_area] == sorted(r.area_code for r in by_area)
    assert by_activity[0] == cases["stale"]


def test_pages_add_up_to_the_total(programme):
    seen: list[int] = []
    for page in (1, 2, 3):
        rows, total = list_page(CaseFilters(status="all"), NOW, page, 3)
        seen += ids(rows)
    assert total == 8
    assert len(seen) == 8 and set(seen) == set(programme["cases"].values())


def test_rows_carry_reasons_rep_and_overdue_count(programme):
    rows = {r.case_id: r for r in all_case_rows(CaseFilters(status="all"), NOW)}
    cases = programme["cases"]
    unassigned = rows[cases["unassigned"]]
    assert unassigned.rep_name is None
    assert unassigned.reasons == ("too_few_members", "not_resident_led")
    assert (unassigned.members, unassigned.residents) == (6, 2)
    assert rows[cases["overdue"]].overdue_actions == 1
    assert rows[cases["plain"]].overdue_actions == 0
    assert rows[cases["plain"]].rep_name == "Nora North"


def test_unassigned_queue_is_open_cases_without_rep_oldest_first(app):
    newer, older, assigned = make_area(), make_area(), make_area(rep=make_user())
    add_snapshot(newer, 6, 4, year=2021)
    add_snapshot(older, 6, 4, year=2019)
    add_snapshot(assigned, 6, 4, year=2018)
    closed = make_area()
    add_snapshot(closed, 6, 4, year=2017)
    case_of(closed).status = "closed"
    db.session.flush()
    assert ids(unassigned_open_cases(NOW)) == [case_of(older).id, case_of(newer).id]


def _build(n: int) -> None:
    reps = [make_user("rep") for _ in range(3)]
    for i in range(n):
        area = make_area(rep=reps[i % 3] if i % 4 else None)
        add_snapshot(area, 6 + i % 3, 4, year=2021)
        if i % 2:
            add_action(case_of(area), date(2026, 1, 1))


@pytest.mark.parametrize("sort", ["urgency", "area"])
def test_query_count_does_not_grow_with_cases(app, sort):
    counts = []
    for n in (2, 28):
        _build(n)
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            rows, total = list_page(CaseFilters(sort=sort, overdue=False), NOW, 1, 50)
            [(r.rep_name, r.overdue_actions) for r in rows]
        counts.append(counter.count)
    assert total == 30 and len(rows) == 30
    assert counts[0] == counts[1] == 2
