"""Operator log lines: one INFO line with ids for each audited change."""

import logging
from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.operations.users import create_user

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_creating_a_user_logs_one_line_with_its_id(app, caplog):
    caplog.set_level(logging.INFO, logger="app")
    user = create_user(email="new.rep@example.org", name="New Rep", role="rep", now=NOW)
    lines = [r.getMessage() for r in caplog.records if r.name == "app.operations.audit"]
    assert lines == [
        f"user_created user={user.id} actor=system: Created rep account for new.rep@example.org"
    ]


def test_log_level_comes_from_config(app):
    assert logging.getLogger("app").level == logging.getLevelName(app.config["LOG_LEVEL"])


def test_the_rules_log_each_case_they_open_and_resolve(app, caplog):
    import logging

    from tests.factories import add_snapshot, make_area

    area = make_area()
    with caplog.at_level(logging.INFO, logger="app.operations.casework"):
        add_snapshot(area, 6, 4, year=2025)
        add_snapshot(area, 10, 7, year=2026)
    lines = [r.getMessage() for r in caplog.records if r.name == "app.operations.casework"]
    assert any(f"case opened for area {area.code} (under_criteria)" in line for line in lines)
    assert any(f"(area {area.code}) resolved" in line for line in lines)
    assert any(f"(area {area.code}) returned within criteria" in line for line in lines)
    assert not any("case None" in line for line in lines)  # every line names its case's id
    opened = next(line for line in lines if "opened" in line)
    case_id = db.session.scalar(select(Case.id).where(Case.area_id == area.id))
    assert f"case {case_id}," in opened
