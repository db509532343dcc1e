"""The criteria and the stale threshold follow their settings everywhere they are used
(docs/rules.md): CRITERIA_MIN_MEMBERS, CRITERIA_RESIDENT_SHARE, REMINDER_STALE_AFTER_DAYS."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, Snapshot
from app.operations.snapshots import EntryInput, SnapshotInput, store_snapshots
from app.queries.case_filters import CaseFilters, filtered_cases
from app.rules.vocabulary import Flag, Reason
from app.settings import criteria_thresholds
from tests.factories import make_area

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def store(area, members: int, residents: int) -> Snapshot:
    entries = tuple(
        EntryInput(f"{area.code}-{i}", f"Person {i}", i < residents, "member")
        for i in range(members)
    )
    store_snapshots(
        [SnapshotInput(area.code, "update", None, date(2026, 11, 20), entries)], now=NOW
    )
    db.session.flush()
    return db.session.scalar(select(Snapshot).where(Snapshot.area_id == area.id))


@pytest.mark.parametrize("app_config", [{"CRITERIA_MIN_MEMBERS": 10}])
def test_the_minimum_members_setting_decides_the_stored_flag_and_opens_the_case(app):
    area = make_area("E1")
    snapshot = store(area, 9, 7)  # within criteria at the default of eight, not at ten

    assert criteria_thresholds().min_members == 10
    assert (snapshot.flag, snapshot.reasons) == (Flag.UNDER_CRITERIA, [Reason.TOO_FEW_MEMBERS])
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    assert case is not None and case.flag == Flag.UNDER_CRITERIA


@pytest.mark.parametrize("app_config", [{"CRITERIA_MIN_MEMBERS": 10}])
def test_at_the_configured_minimum_the_area_is_at_threshold(app):
    snapshot = store(make_area("E2"), 10, 8)

    assert snapshot.flag == Flag.AT_THRESHOLD


@pytest.mark.parametrize("app_config", [{"CRITERIA_RESIDENT_SHARE": "2/3"}])
def test_the_resident_share_setting_decides_resident_led(app):
    two_thirds = store(make_area("E3"), 9, 6)  # 6 of 9 is not more than two thirds
    more = store(make_area("E4"), 9, 7)

    assert Reason.NOT_RESIDENT_LED in two_thirds.reasons
    assert more.flag is None


def test_by_default_eight_members_over_half_residents(app):
    assert store(make_area("E5"), 9, 5).flag is None
    assert store(make_area("E6"), 8, 5).flag == Flag.AT_THRESHOLD
    assert store(make_area("E7"), 8, 4).flag == Flag.UNDER_CRITERIA


@pytest.mark.parametrize("app_config", [{"REMINDER_STALE_AFTER_DAYS": 10}])
def test_the_stale_filter_follows_the_stale_reminder_setting(app):
    area = make_area("E8")
    store(area, 6, 4)
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    case.last_activity_at = NOW - timedelta(days=12)  # stale at 10 days, not at the default 28
    db.session.flush()
    filters, errors = CaseFilters.from_args({"stale": "1"})

    assert not errors
    assert [c.id for c in db.session.scalars(filtered_cases(filters, NOW))] == [case.id]
