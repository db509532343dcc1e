"""A 200,000-row annual-review file imports in one go, and a bad row in it writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Area, Case, RosterEntry, Snapshot

AREAS, YEARS = 2000, range(2015, 2022)
HEADER = "area_code,review_year,person_id,member_name,resident,role\n"


def big_file(path, *, bad_row_at: int | None = None) -> int:
    """~200,000 rows: 2,000 areas x 7 years x 14-15 people. Returns the data row count."""
    rows = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER)
        for year in YEARS:
            for a in range(AREAS):
                # Every seventh area sits at 7 members (under criteria) in odd years.
                members = 7 if (a % 7 == 0 and year % 2) else 14
                for i in range(members):
                    rows += 1
                    resident = "no" if bad_row_at == rows + 1 else ("yes" if i % 3 else "no")
                    if bad_row_at == rows + 1:
                        resident = "perhaps"
                    out.write(f"A{a:04d},{year},A{a:04d}-{i},Person {i},{resident},member\n")
                rows += 1
                out.write(f"A{a:04d},{year},W{a:04d},Worker,no,worker\n")
    return rows


@pytest.fixture
def areas(app):
    db.session.execute(
        Area.__table__.insert(),
        [{"code": f"A{a:04d}", "name": f"Area {a}", "current_reasons": []} for a in range(AREAS)],
    )
    db.session.commit()


@pytest.mark.slow
def test_two_hundred_thousand_rows_import(areas, runner, tmp_path):
    path = tmp_path / "big.csv"
    rows = big_file(path)
    assert rows >= 200_000
    result = runner.invoke(args=["reviews", "import", str(path)])
    assert result.exit_code == 0, result.output
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert count(Snapshot) == AREAS * len(YEARS)
    assert count(RosterEntry) == rows
    flagged = len([a for a in range(AREAS) if a % 7 == 0])
    # Under criteria in 2015, 2017, 2019, 2021 -> a new case each time (resolved in between).
    assert count(Case) == flagged * 4
    open_cases = db.session.scalar(
        select(func.count()).select_from(Case).where(Case.status == "new")
    )
    assert open_cases == flagged


@pytest.mark.slow
def test_one_bad_row_in_a_big_file_writes_nothing(areas, runner, tmp_path):
    path = tmp_path / "big-bad.csv"
    big_file(path, bad_row_at=150_001)
    result = runner.invoke(args=["reviews", "import", str(path)])
    assert result.exit_code == 1
    assert "row 150001, column resident: 'perhaps'" in result.output
    assert db.session.scalar(select(func.count()).select_from(RosterEntry)) == 0
