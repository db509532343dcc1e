"""`flask reminders sweep [--now ISO]`."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Action, ActionPlan, Case, OutboxMessage
from tests.factories import add_snapshot, make_area, make_user


@pytest.fixture
def app_config():
    return {"PROGRAMME_TEAM_EMAIL": "team@example.org"}


@pytest.fixture
def case_with_action(app, now):
    area = make_area(rep=make_user("rep"), contacts=2)
    add_snapshot(area, 6, 4, on=date(2026, 11, 20), now=now)
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    plan = ActionPlan(case=case, support=[], barriers=[])
    db.session.add(
        Action(plan=plan, description="Recruit", owner="partnership", due_on=date(2026, 11, 24))
    )
    db.session.commit()
    return case


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_sweep_prints_a_summary_and_commits(runner, case_with_action):
    result = runner.invoke(args=["reminders", "sweep", "--now", "2026-11-25T10:00:00+00:00"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "Sweep at 2026-11-25 10:00 UTC: 1 open case evaluated; 5 mails enqueued "
        "(new_case 1, overdue 2, programme_digest 1, rep_digest 1); 0 already queued."
    )
    db.session.rollback()  # what the command wrote survives: it was committed
    assert outbox_count() == 5


def test_a_second_sweep_reports_everything_already_queued(runner, case_with_action):
    runner.invoke(args=["reminders", "sweep", "--now", "2026-11-25T10:00:00+00:00"])
    result = runner.invoke(args=["reminders", "sweep", "--now", "2026-11-25T11:00:00+00:00"])
    assert result.exit_code == 0
    assert "0 mails enqueued; 5 already queued." in result.output
    assert outbox_count() == 5


def test_now_without_offset_is_london_time(runner, app):
    result = runner.invoke(args=["reminders", "sweep", "--now", "2026-07-01T09:30"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Sweep at 2026-07-01 08:30 UTC:")


def test_now_with_another_offset_is_converted(runner, app):
    result = runner.invoke(args=["reminders", "sweep", "--now", "2026-11-25T05:00-05:00"])
    assert result.output.startswith("Sweep at 2026-11-25 10:00 UTC:")


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T10:00", "25/11/2026 10:00", ""])
def test_a_bad_now_is_a_clear_error_with_exit_code_2(runner, app, value):
    result = runner.invoke(args=["reminders", "sweep", "--now", value])
    assert result.exit_code == 2
    assert "Invalid value for '--now'" in result.output
    assert "is not an ISO date and time" in result.output
    assert "Traceback" not in result.output
    assert outbox_count() == 0


def test_without_now_the_sweep_runs_at_the_current_time(runner, app):
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    result = runner.invoke(args=["reminders", "sweep"])
    assert result.exit_code == 0
    stamp = result.output.split("Sweep at ")[1][:20]
    moment = datetime.strptime(stamp, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
    assert moment >= before
    # An empty programme still gets its weekly programme digest, once.
    assert "1 mail enqueued (programme_digest 1)" in result.output
