"""The case rules applied to stored snapshots, against a real database."""

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Case, CaseEvent
from tests.factories import add_snapshot, make_area, make_user


def cases_of(area):
    return db.session.scalars(select(Case).where(Case.area_id == area.id).order_by(Case.id)).all()


def kinds(case):
    return [
        e.kind
        for e in db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    ]


def test_under_criteria_review_opens_a_new_case_assigned_to_the_area_rep(app):
    rep = make_user("rep")
    area = make_area(rep=rep)
    add_snapshot(area, 6, 5, year=2021)
    (case,) = cases_of(area)
    assert (case.flag, case.status, case.rep_id) == ("under_criteria", "new", rep.id)
    assert case.opened_on == date(2021, 9, 30)
    assert kinds(case) == ["opened", "assigned"]
    assert (area.current_members, area.current_flag) == (6, "under_criteria")


def test_area_without_rep_opens_an_unassigned_case(app):
    area = make_area()
    add_snapshot(area, 8, 5, year=2021)
    (case,) = cases_of(area)
    assert (case.flag, case.rep_id) == ("at_threshold", None)
    assert kinds(case) == ["opened"]


def test_within_criteria_review_opens_nothing(app):
    area = make_area()
    add_snapshot(area, 10, 6, year=2021)
    assert cases_of(area) == []


def test_return_to_eight_members_keeps_case_open_then_resolves(app):
    area = make_area()
    add_snapshot(area, 6, 5, year=2020)
    add_snapshot(area, 8, 6, on=date(2021, 1, 10))
    (case,) = cases_of(area)
    assert (case.status, case.flag, case.returned_on) == ("new", "at_threshold", date(2021, 1, 10))
    add_snapshot(area, 9, 6, year=2021)
    assert (case.status, case.resolved_on) == ("resolved", date(2021, 9, 30))
    assert case.returned_on == date(2021, 1, 10)
    assert kinds(case) == ["opened", "returned", "flag_changed", "resolved"]


def test_straight_to_no_flag_resolves_and_sets_returned(app):
    area = make_area()
    add_snapshot(area, 5, 5, year=2020)
    add_snapshot(area, 12, 9, year=2021)
    (case,) = cases_of(area)
    assert case.status == "resolved"
    assert case.returned_on == case.resolved_on == date(2021, 9, 30)


def test_at_threshold_falling_under_escalates(app):
    area = make_area()
    add_snapshot(area, 8, 5, year=2020)
    add_snapshot(area, 7, 5, year=2021)
    (case,) = cases_of(area)
    assert (case.flag, case.status, case.escalated_count) == ("under_criteria", "new", 1)
    assert "escalated" in kinds(case)


def test_resolved_case_never_reopens_a_new_case_links_to_it(app):
    area = make_area()
    add_snapshot(area, 6, 5, year=2019)
    add_snapshot(area, 10, 6, year=2020)
    add_snapshot(area, 6, 5, year=2021)
    first, second = cases_of(area)
    assert first.status == "resolved"
    assert second.status == "new"
    assert second.previous_case_id == first.id


def test_snapshot_older_than_the_latest_is_kept_but_changes_no_case(app):
    area = make_area()
    add_snapshot(area, 10, 6, year=2021)
    add_snapshot(area, 5, 5, year=2019)
    assert cases_of(area) == []
    assert area.current_members == 10


def test_in_year_update_wins_a_tie_with_the_annual_review(app):
    area = make_area()
    add_snapshot(area, 10, 6, on=date(2021, 9, 30))  # update on the review date
    add_snapshot(area, 5, 5, year=2021)  # annual review, same date: the update still wins
    assert cases_of(area) == []
    assert area.current_members == 10


def test_workers_do_not_keep_a_partnership_within_criteria(app):
    area = make_area()
    add_snapshot(area, 7, 7, year=2021, extra_workers=2)
    (case,) = cases_of(area)
    assert case.flag == "under_criteria"


def test_database_refuses_a_second_open_case_for_an_area(app):
    area = make_area()
    add_snapshot(area, 6, 5, year=2021)
    db.session.add(
        Case(
            area_id=area.id, flag="under_criteria", status="contacted", opened_on=date(2021, 10, 1)
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_database_allows_many_finished_cases_for_an_area(app):
    area = make_area()
    for status in ("resolved", "closed", "resolved"):
        db.session.add(
            Case(area_id=area.id, flag="under_criteria", status=status, opened_on=date(2020, 1, 1))
        )
    db.session.flush()
    assert len(cases_of(area)) == 3
