"""The recovery dashboard's numbers, against a real database, on a small hand-built programme."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Action, ActionPlan, Case, User
from app.operations.casework import record_event
from app.queries.case_filters import CaseFilters, filtered_cases
from app.queries.dashboard import Figure, count_cases, dashboard
from tests.factories import add_snapshot, make_area, make_user
from tests.querycount import count_queries


@dataclass
class Programme:
    alice: User
    bob: User
    cases: dict[str, Case]


def case_of(area) -> Case:
    return db.session.scalars(
        select(Case).where(Case.area_id == area.id).order_by(Case.id.desc())
    ).first()


def build_programme(now) -> Programme:
    """Seven cases whose every dashboard number is worked out by hand in the tests below.

    Today (London) is 25 Nov 2026. Windows start 26 Oct 2026 (30 days), 27 Aug 2026 (90) and
    25 Nov 2025 (365)."""
    alice = make_user("rep", name="Alice Rep", region="North")
    bob = make_user("rep", name="Bob Rep", region="South")
    gone = make_user("rep", name="Gone Rep", region="North")
    gone.active = False  # no cases: not on the workload table
    make_user("programme", name="Pat Programme")

    # c1: opened by the 2025 review, back at eight members on 1 Oct 2026 (open, at threshold).
    a1 = make_area("A1", rep=alice)
    add_snapshot(a1, 6, 4, year=2025, now=now)
    add_snapshot(a1, 8, 5, on=date(2026, 10, 1), now=now)
    # c2: opened by the 2025 review, contacted, two overdue open actions.
    a2 = make_area("A2", rep=alice)
    add_snapshot(a2, 6, 4, year=2025, now=now)
    # c3: opened at threshold by the 2026 review, escalated on 10 Nov 2026, then left alone.
    a3 = make_area("A3", rep=bob)
    add_snapshot(a3, 8, 5, year=2026, now=now)
    add_snapshot(a3, 6, 4, on=date(2026, 11, 10), now=now)
    # c4: opened by the 2026 review in an area with no rep.
    a4 = make_area("A4")
    add_snapshot(a4, 6, 6, year=2026, now=now)
    # c5: opened by the 2025 review, contacted, plan agreed, back within criteria and resolved
    # on 20 Nov 2026.
    a5 = make_area("A5", rep=bob)
    add_snapshot(a5, 6, 4, year=2025, now=now)
    add_snapshot(a5, 10, 6, on=date(2026, 11, 20), now=now)
    # c6: opened by the 2026 review, plan agreed.
    a6 = make_area("A6", rep=bob)
    add_snapshot(a6, 6, 4, year=2026, now=now)
    # c7: fine in 2026, opened by an in-year update on 1 Nov 2026 (in no review year's cohort).
    a7 = make_area("A7", rep=alice)
    add_snapshot(a7, 10, 6, year=2026, now=now)
    add_snapshot(a7, 7, 5, on=date(2026, 11, 1), now=now)

    areas = (a1, a2, a3, a4, a5, a6, a7)
    cases = {str(i): case_of(area) for i, area in enumerate(areas, start=1)}
    c2, c3, c5, c6 = cases["2"], cases["3"], cases["5"], cases["6"]
    c2.status, c2.contacted_at = "contacted", now - timedelta(days=40)
    plan = ActionPlan(case=c2, barriers=[], support=[])
    plan.actions = [
        Action(description="Recruit", owner="partnership", due_on=date(2026, 11, 1)),
        Action(description="Call", owner="rep", due_on=date(2026, 11, 24)),
        Action(description="Later", owner="rep", due_on=date(2026, 12, 31)),
        Action(description="Done", owner="rep", due_on=date(2026, 10, 1), status="done"),
    ]
    db.session.add(plan)
    record_event(c2, "note", "Spoke to the chair", now=now - timedelta(days=3), actor_id=alice.id)
    # An email is not casework: Bob's last activity stays "none".
    record_event(c3, "email_sent", "Reminder", now=now - timedelta(days=1), actor_id=bob.id)
    c3.last_activity_at = now - timedelta(days=30)
    c5.contacted_at = now - timedelta(days=200)
    c5.plan_agreed_at = now - timedelta(days=150)
    c6.status = "plan_agreed"
    c6.contacted_at, c6.plan_agreed_at = now - timedelta(days=20), now - timedelta(days=10)
    db.session.commit()
    return Programme(alice=alice, bob=bob, cases=cases)


def every_figure(board) -> list[Figure]:
    figures = [*board.open_by_flag_status.values(), *board.open_by_flag.values()]
    figures += [*board.open_by_status.values(), board.open_total, board.unassigned, board.stale]
    figures.append(board.returned)
    for w in board.windows:
        figures += [w.new, w.escalated, w.returned, w.resolved]
    for rep in board.reps:
        figures += [rep.open_cases, rep.overdue_cases]
    for row in board.funnel:
        figures += [figure for _key, _label, figure in row.stages]
    return figures


def test_open_cases_by_flag_and_status(app, now):
    build_programme(now)
    board = dashboard(now)
    cells = {key: f.count for key, f in board.open_by_flag_status.items() if f.count}
    assert cells == {
        ("under_criteria", "new"): 3,
        ("under_criteria", "contacted"): 1,
        ("under_criteria", "plan_agreed"): 1,
        ("at_threshold", "new"): 1,
    }
    assert board.open_by_flag["under_criteria"].count == 5
    assert board.open_by_flag["at_threshold"].count == 1
    assert board.open_by_status["new"].count == 4
    assert board.open_total.count == 6
    assert board.open_by_flag_status[("under_criteria", "contacted")].filters == CaseFilters(
        status="contacted", flag="under_criteria"
    )


def test_movements_over_the_last_30_90_and_365_days(app, now):
    build_programme(now)
    board = dashboard(now)
    movements = {
        w.days: (w.new.count, w.escalated.count, w.returned.count, w.resolved.count)
        for w in board.windows
    }
    assert movements == {30: (1, 1, 1, 1), 90: (4, 1, 2, 1), 365: (4, 1, 2, 1)}
    thirty = board.windows[0]
    assert thirty.start == date(2026, 10, 26)
    assert thirty.new.filters == CaseFilters(status="all", opened_from=date(2026, 10, 26))
    assert thirty.resolved.filters == CaseFilters(status="resolved", resolved_from=thirty.start)


def test_unassigned_and_stale_cases(app, now):
    programme = build_programme(now)
    board = dashboard(now)
    assert board.unassigned.count == 1
    assert board.stale.count == 1
    assert (
        db.session.scalars(filtered_cases(board.stale.filters, now)).one() == (programme.cases["3"])
    )


def test_rep_workload_sorted_by_overdue_actions(app, now):
    programme = build_programme(now)
    board = dashboard(now)
    rows = [
        (r.name, r.open_cases.count, r.overdue_actions, r.overdue_cases.count) for r in board.reps
    ]
    assert rows == [("Alice Rep", 3, 2, 1), ("Bob Rep", 2, 0, 0)]
    alice, bob = board.reps
    assert alice.days_since_activity == 3
    assert bob.days_since_activity is None
    assert alice.overdue_cases.filters == CaseFilters(rep_id=programme.alice.id, overdue=True)


def test_recovery_funnel_of_each_review_year(app, now):
    build_programme(now)
    board = dashboard(now)
    funnel = {row.year: [f.count for _k, _l, f in row.stages] for row in board.funnel}
    # flagged, contacted, plan agreed, returned within criteria, resolved
    assert funnel == {2026: [3, 1, 1, 0, 0], 2025: [3, 2, 1, 2, 1]}
    assert [row.year for row in board.funnel] == [2026, 2025]
    by_year = {row.year: row for row in board.funnel}
    # c1: 30 Sep 2025 -> 1 Oct 2026 is 366 days; c5: 30 Sep 2025 -> 20 Nov 2026 is 416.
    assert by_year[2025].median_days_to_return == 391
    assert by_year[2026].median_days_to_return is None
    assert board.median_days_to_return == 391
    assert board.returned.count == 2
    contacted = by_year[2025].stages[1][2]
    assert contacted.filters == CaseFilters(status="all", cohort=2025, reached="contacted")


def test_every_number_equals_the_cases_its_filters_list(app, now):
    build_programme(now)
    figures = every_figure(dashboard(now))
    assert len(figures) > 40
    for figure in figures:
        listed = db.session.scalars(filtered_cases(figure.filters, now)).all()
        assert figure.count == len(listed), figure.filters


def test_count_cases_runs_one_query_for_many_filters(app, now):
    build_programme(now)
    filters = [CaseFilters(), CaseFilters(status="all"), CaseFilters(overdue=True)]
    with count_queries() as counter:
        counts = count_cases(filters, now)
    assert counts == [6, 7, 1]
    assert counter.count == 1


def test_dashboard_query_count_does_not_grow_with_the_data(app, now):
    build_programme(now)
    with count_queries() as small:
        dashboard(now)
    for i in range(6):
        rep = make_user("rep", region="East")
        area = make_area(rep=rep)
        add_snapshot(area, 5, 3, year=2024 - i, now=now)
    db.session.commit()
    with count_queries() as large:
        dashboard(now)
    assert small.count == large.count <= 12


def test_empty_programme(app, now):
    board = dashboard(now)
    assert board.open_total.count == 0
    assert board.funnel == ()
    assert board.reps == ()
    assert board.median_days_to_return is None
