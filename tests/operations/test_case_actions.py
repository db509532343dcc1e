"""A rep's casework operations: status, notes, plan, actions, membership updates."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Action, AuditEntry, Case, CaseEvent, Snapshot
from app.operations import case_actions as ops
from app.operations.errors import UserError
from app.operations.snapshots import EntryInput
from app.operations.versions import ConflictError
from tests.factories import add_snapshot, agreeable_plan, make_area, make_user


@pytest.fixture
def rep(app):
    return make_user("rep")


@pytest.fixture
def case(rep):
    area = make_area(rep=rep)
    add_snapshot(area, 6, 4, year=2026)
    db.session.commit()
    return db.session.scalar(select(Case).where(Case.area_id == area.id))


def events(case, kind=None):
    query = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    if kind:
        query = query.where(CaseEvent.kind == kind)
    return db.session.scalars(query).all()


def roster(members, residents, workers=0):
    entries = [
        EntryInput(f"p{i}", f"Person {i}", i < residents, "chair" if i == 0 else "member")
        for i in range(members)
    ]
    entries += [EntryInput(f"w{i}", f"Worker {i}", False, "worker") for i in range(workers)]
    return entries


# --- status --------------------------------------------------------------------------------


def test_rep_marks_new_case_contacted_with_event_actor_and_time(case, rep, now):
    words = ops.change_status(case, "contacted", rep, now, expected_version=case.version)
    db.session.commit()
    assert words == "Status changed to Contacted"
    assert (case.status, case.contacted_at) == ("contacted", now)
    (event,) = events(case, "status_changed")
    assert event.data == {"from": "new", "to": "contacted"}
    assert (event.actor_id, event.created_at) == (rep.id, now)
    assert case.last_activity_at == now


def test_milestones_are_set_the_first_time_only(case, rep, now):
    later = now + timedelta(days=30)
    agreeable_plan(case, rep, now)
    ops.change_status(case, "contacted", rep, now)
    ops.change_status(case, "plan_agreed", rep, now + timedelta(days=1))
    ops.change_status(case, "monitoring", rep, now + timedelta(days=2))
    ops.change_status(case, "plan_agreed", rep, later)
    ops.change_status(case, "monitoring", rep, later)
    db.session.commit()
    assert case.contacted_at == now
    assert case.plan_agreed_at == now + timedelta(days=1)
    assert [e.data["to"] for e in events(case, "status_changed")] == [
        "contacted",
        "plan_agreed",
        "monitoring",
        "plan_agreed",
        "monitoring",
    ]


@pytest.mark.parametrize(
    ("start", "target", "role"),
    [
        ("new", "plan_agreed", "rep"),
        ("new", "monitoring", "rep"),
        ("contacted", "new", "rep"),
        ("new", "closed", "rep"),
        ("monitoring", "contacted", "programme"),
        ("new", "resolved", "programme"),
        ("new", "resolved", "rep"),
    ],
)
def test_transitions_the_rules_refuse_change_nothing(case, now, start, target, role):
    case.status = start
    db.session.commit()
    actor = case.rep if role == "rep" else make_user("programme")
    with pytest.raises(ops.InvalidInput) as refused:
        ops.change_status(case, target, actor, now, reason="left the programme")
    db.session.rollback()
    assert "target" in refused.value.errors
    assert case.status == start
    assert events(case, "status_changed") == []


def test_programme_user_closes_with_a_reason_but_not_without(case, now):
    programme = make_user("programme")
    db.session.commit()
    with pytest.raises(ops.InvalidInput):
        ops.change_status(case, "closed", programme, now, reason="  ")
    db.session.rollback()
    ops.change_status(case, "closed", programme, now, reason="Area left the programme")
    db.session.commit()
    assert (case.status, case.closed_on) == ("closed", date(2026, 11, 25))
    assert case.closed_reason == "Area left the programme"


def test_another_rep_cannot_change_the_case(case, now):
    other = make_user("rep")
    with pytest.raises(UserError):
        ops.change_status(case, "contacted", other, now)
    assert case.status == "new"


def test_stale_version_is_refused_and_nothing_saved(case, rep, now):
    shown = case.version
    ops.change_status(case, "contacted", make_user("programme"), now + timedelta(hours=1))
    db.session.commit()
    assert case.version != shown
    with pytest.raises(ConflictError) as refused:
        ops.change_status(case, "contacted", rep, now, expected_version=shown)
    db.session.rollback()
    assert "Someone else changed this case" in str(refused.value)
    assert case.status == "contacted"
    assert len(events(case, "status_changed")) == 1


def test_additions_leave_the_version_alone(case, rep, now):
    """A note, an action or a contact adds to the case: a form shown before it is not stale."""
    shown = case.version
    later = now + timedelta(hours=1)
    ops.add_note(case, "Someone else was here", make_user("programme"), later)
    ops.add_action(
        case,
        description="Call the chair",
        owner="rep",
        due_on=date(2027, 1, 5),
        actor=rep,
        now=later,
    )
    db.session.commit()
    assert case.version == shown
    assert case.last_activity_at == later
    ops.change_status(case, "contacted", rep, later, expected_version=shown)
    db.session.commit()
    assert case.status == "contacted"
    assert [e.message for e in events(case, "note")] == ["Someone else was here"]


# --- notes ---------------------------------------------------------------------------------


def test_note_goes_on_the_timeline(case, rep, now):
    ops.add_note(case, "  Met the chair at the community centre. ", rep, now)
    db.session.commit()
    (note,) = events(case, "note")
    assert (note.message, note.actor_id) == ("Met the chair at the community centre.", rep.id)


def test_empty_note_is_refused(case, rep, now):
    with pytest.raises(ops.InvalidInput) as refused:
        ops.add_note(case, "   ", rep, now)
    assert list(refused.value.errors) == ["note"]


# --- plan ----------------------------------------------------------------------------------


def test_first_save_creates_the_plan_and_says_so(case, rep, now):
    changed = ops.save_plan(
        case,
        barriers=["recruitment", "governance", "not-a-barrier"],
        barriers_text="",
        target_members=10,
        target_on=date(2027, 3, 31),
        support=["expert_partner"],
        actor=rep,
        now=now,
        expected_version=0,
    )
    db.session.commit()
    plan = case.plan
    assert plan.barriers == ["recruitment", "governance"]
    assert (plan.target_members, plan.target_on, plan.support) == (
        10,
        date(2027, 3, 31),
        ["expert_partner"],
    )
    assert "barriers" in changed
    (event,) = events(case, "plan_updated")
    assert event.message.startswith("Plan created:")
    assert "Recruitment, Governance" in event.message
    assert "31 Mar 2027" in event.message


def test_later_save_names_what_changed(case, rep, now):
    args = dict(barriers=["capacity"], barriers_text="", support=[], actor=rep, now=now)
    ops.save_plan(case, target_members=9, target_on=None, **args)
    db.session.commit()
    version = case.plan.version
    changed = ops.save_plan(
        case, target_members=11, target_on=None, expected_version=version, **args
    )
    db.session.commit()
    assert changed == ["target_members"]
    last = events(case, "plan_updated")[-1]
    assert last.data["changed"] == ["target_members"]
    assert "target 11 members" in last.message
    assert ops.save_plan(case, target_members=11, target_on=None, **args) == []
    assert len(events(case, "plan_updated")) == 2


def test_plan_with_other_barrier_needs_words_and_a_sane_target(case, rep, now):
    with pytest.raises(ops.InvalidInput) as refused:
        ops.save_plan(
            case,
            barriers=["other"],
            barriers_text=" ",
            target_members=0,
            target_on=date(2020, 1, 1),
            support=[],
            actor=rep,
            now=now,
        )
    db.session.rollback()
    assert set(refused.value.errors) == {"barriers_text", "target_members", "target_on"}
    assert case.plan is None


def test_plan_saved_by_someone_else_meanwhile_is_refused(case, rep, now):
    args = dict(barriers=[], barriers_text="", target_on=None, support=[], actor=rep, now=now)
    ops.save_plan(case, target_members=9, **args)
    db.session.commit()
    with pytest.raises(ConflictError):
        ops.save_plan(case, target_members=12, expected_version=0, **args)
    db.session.rollback()
    assert case.plan.target_members == 9


# --- actions -------------------------------------------------------------------------------


def add(case, rep, now, **kw):
    values = dict(description="Hold a recruitment event", owner="partnership")
    values["due_on"] = date(2026, 12, 15)
    values.update(kw)
    return ops.add_action(case, actor=rep, now=now, **values)


def test_add_action_creates_the_plan_and_an_event(case, rep, now):
    action = add(case, rep, now)
    db.session.commit()
    assert case.plan is not None and action.plan_id == case.plan.id
    assert action.status == "open"
    (event,) = events(case, "action_added")
    assert event.data == {"action_id": action.id}
    assert "Hold a recruitment event" in event.message
    assert "Partnership, due 15 Dec 2026" in event.message


def test_action_due_in_the_past_or_without_owner_is_refused(case, rep, now):
    with pytest.raises(ops.InvalidInput) as refused:
        add(case, rep, now, due_on=date(2026, 11, 24), owner="someone", description=" ")
    assert set(refused.value.errors) == {"due_on", "owner", "description"}


def test_edit_complete_and_drop_actions(case, rep, now):
    first, second = add(case, rep, now), add(case, rep, now, description="Leaflet drop")
    db.session.commit()
    changed = ops.edit_action(
        case,
        first,
        description="Hold two recruitment events",
        owner="rep",
        due_on=first.due_on,
        actor=rep,
        now=now,
        expected_version=case.version,
    )
    db.session.commit()
    assert changed == ["description", "owner"]
    ops.complete_action(case, first, actor=rep, now=now, expected_version=case.version)
    ops.drop_action(case, second, actor=rep, now=now, reason="Printing costs too much")
    db.session.commit()
    assert (first.status, first.completed_at) == ("done", now)
    assert (second.status, second.completed_at) == ("dropped", None)
    kinds = [e.kind for e in events(case) if e.kind.startswith("action")]
    assert kinds == [
        "action_added",
        "action_added",
        "action_updated",
        "action_done",
        "action_dropped",
    ]
    assert "Printing costs too much" in events(case, "action_dropped")[0].message
    with pytest.raises(UserError):
        ops.complete_action(case, second, actor=rep, now=now)


def test_action_change_on_a_stale_case_is_refused(case, rep, now):
    action = add(case, rep, now)
    db.session.commit()
    shown = case.version
    ops.change_status(case, "contacted", rep, now + timedelta(hours=1))
    db.session.commit()
    with pytest.raises(ConflictError):
        ops.complete_action(case, action, actor=rep, now=now, expected_version=shown)
    db.session.rollback()
    assert db.session.get(Action, action.id).status == "open"


# --- membership ----------------------------------------------------------------------------


def test_membership_back_within_criteria_resolves_the_case(case, rep, now):
    result = ops.update_membership(case, roster(9, 6, workers=1), rep, now, case.version)
    db.session.commit()
    assert result.outcome == "resolved"
    assert (result.evaluation.members, result.evaluation.residents) == (9, 6)
    assert result.message == (
        "Membership updated: the area is now within criteria (9 members, 6 residents);"
        " the case is resolved"
    )
    assert (case.status, case.resolved_on) == ("resolved", date(2026, 11, 25))
    kinds = [e.kind for e in events(case)]
    assert kinds[-3:] == ["returned", "resolved", "membership_updated"]
    update = events(case, "membership_updated")[0]
    assert (update.actor_id, update.data["outcome"]) == (rep.id, "resolved")
    snapshot = db.session.scalar(select(Snapshot).where(Snapshot.kind == "update"))
    assert (snapshot.source, snapshot.effective_on, snapshot.created_by_id) == (
        "web",
        date(2026, 11, 25),
        rep.id,
    )
    assert len(snapshot.entries) == 10
    assert case.area.current_members == 9


def test_membership_at_eight_returns_the_case_and_keeps_it_open(case, rep, now):
    result = ops.update_membership(case, roster(8, 5), rep, now)
    db.session.commit()
    assert result.outcome == "returned"
    assert (case.status, case.flag, case.returned_on) == ("new", "at_threshold", date(2026, 11, 25))
    assert "returned" in [e.kind for e in events(case)]


def test_membership_falling_from_threshold_escalates(rep, now):
    area = make_area(rep=rep)
    add_snapshot(area, 8, 5, year=2026)
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    result = ops.update_membership(case, roster(7, 5), rep, now)
    db.session.commit()
    assert result.outcome == "escalated"
    assert (case.flag, case.escalated_count) == ("under_criteria", 1)
    assert [e.kind for e in events(case)][-2:] == ["escalated", "membership_updated"]


def test_membership_still_under_criteria_leaves_the_case_open(case, rep, now):
    result = ops.update_membership(case, roster(7, 5), rep, now)
    db.session.commit()
    assert result.outcome == "unchanged"
    assert (case.status, case.flag) == ("new", "under_criteria")
    assert "fewer than the required number of members" in result.message


def test_membership_update_is_dated_today_in_london(case, rep):
    late_evening = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # already 1 July in London
    ops.update_membership(case, roster(7, 5), rep, late_evening)
    db.session.commit()
    snapshot = db.session.scalar(select(Snapshot).where(Snapshot.kind == "update"))
    assert snapshot.effective_on == date(2026, 7, 1)


def test_membership_needs_a_counted_member(case, rep, now):
    with pytest.raises(ops.InvalidInput) as refused:
        ops.update_membership(case, roster(0, 0, workers=2), rep, now)
    db.session.rollback()
    assert "entries" in refused.value.errors
    assert db.session.scalar(select(Snapshot).where(Snapshot.kind == "update")) is None


def test_membership_with_stale_version_stores_nothing(case, rep, now):
    with pytest.raises(ConflictError):
        ops.update_membership(case, roster(9, 6), rep, now, expected_version=case.version + 1)
    db.session.rollback()
    assert db.session.scalar(select(Snapshot).where(Snapshot.kind == "update")) is None
    assert case.status == "new"


def test_membership_of_an_area_without_a_case_is_audited(rep, now):
    area = make_area(rep=rep)
    add_snapshot(area, 10, 6, year=2026)
    result = ops.update_membership(area, roster(11, 7), rep, now)
    db.session.commit()
    assert (result.outcome, result.case) == ("no_case", None)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "membership_updated"))
    assert audit.target_id == area.id
    assert area.current_members == 11


def test_closing_from_the_status_form_is_the_one_close_path(case, now):
    # Both close buttons (status form, programme close page) record one "closed" event.
    programme = make_user("programme")
    ops.change_status(case, "closed", programme, now, reason="Area left the programme")
    db.session.commit()
    (closed,) = events(case, "closed")
    assert closed.message == "Case closed: Area left the programme"
    assert closed.data == {"from": "new", "to": "closed", "reason": "Area left the programme"}
    assert [e for e in events(case, "status_changed") if e.data.get("to") == "closed"] == []


def test_a_case_closed_before_the_one_path_still_shows_on_the_timeline(case, rep, now):
    from app.operations.casework import record_event
    from app.queries.case_page import case_page

    # Older databases hold closings recorded as "status_changed" events.
    record_event(
        case,
        "status_changed",
        "Status changed to Closed: left.",
        now=now,
        data={"from": "new", "to": "closed", "reason": "left"},
    )
    db.session.commit()
    page = case_page(case.id, rep, now, "status")
    assert "Status changed to Closed: left." in [e.message for e in page.events]


# --- a plan means a plan; contact as an activity ---------------------------------------------


def test_plan_agreed_is_refused_until_the_plan_is_complete(case, rep, now):
    ops.change_status(case, "contacted", rep, now)
    with pytest.raises(ops.InvalidInput) as refused:
        ops.change_status(case, "plan_agreed", rep, now)
    message = refused.value.errors["target"]
    assert message == (
        "The plan can't be agreed yet: it needs at least one barrier; a target of at least 8"
        " members; a target date in the future; at least one open action."
    )
    assert case.status == "contacted"
    agreeable_plan(case, rep, now)
    ops.complete_action(case, case.plan.actions[0], actor=rep, now=now)
    with pytest.raises(ops.InvalidInput) as still:
        ops.change_status(case, "plan_agreed", rep, now)
    assert still.value.errors["target"].endswith("it needs at least one open action.")
    add(case, rep, now)
    ops.change_status(case, "plan_agreed", rep, now)
    assert case.status == "plan_agreed"


def test_an_empty_plan_is_refused(case, rep, now):
    with pytest.raises(ops.InvalidInput) as refused:
        ops.save_plan(
            case,
            barriers=[],
            barriers_text="  ",
            target_members=None,
            target_on=None,
            support=[],
            actor=rep,
            now=now,
        )
    assert set(refused.value.errors) == {"barriers"}
    assert case.plan is None


def test_first_contact_moves_a_new_case_to_contacted_and_each_is_on_the_timeline(case, rep, now):
    ops.record_contact(
        case,
        on=now.date(),
        method="phone",
        with_whom="Jo Chair",
        outcome="Two residents may join.",
        actor=rep,
        now=now,
    )
    assert (case.status, case.contacted_at) == ("contacted", now)
    later = now + timedelta(days=3)
    ops.record_contact(
        case,
        on=later.date(),
        method="visit",
        with_whom="the treasurer",
        outcome="Went through the accounts.",
        actor=rep,
        now=later,
    )
    assert case.contacted_at == now
    contacts = events(case, "contact")
    assert [e.data["method"] for e in contacts] == ["phone", "visit"]
    assert contacts[0].message == (
        f"Contact (phone) with Jo Chair on {now.day} Nov 2026: Two residents may join."
    )
    assert [e.data["to"] for e in events(case, "status_changed")] == ["contacted"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"on": None}, "on"),
        ({"on": date(2026, 11, 26)}, "on"),  # tomorrow (now is 25 Nov)
        ({"on": date(2020, 1, 1)}, "on"),  # before the case opened
        ({"method": "pigeon"}, "method"),
        ({"with_whom": " "}, "with_whom"),
        ({"outcome": ""}, "outcome"),
        ({"outcome": "x" * 5001}, "outcome"),
    ],
)
def test_bad_contact_records_nothing(case, rep, now, values, field):
    args = dict(on=now.date(), method="email", with_whom="Jo", outcome="Fine.")
    args.update(values)
    with pytest.raises(ops.InvalidInput) as refused:
        ops.record_contact(case, actor=rep, now=now, **args)
    assert set(refused.value.errors) == {field}
    assert case.status == "new" and events(case, "contact") == []
