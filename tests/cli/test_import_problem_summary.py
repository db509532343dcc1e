"""A file with more bad rows than a screenful: the first 100 and a count per reason, in the
same words from `flask reviews import` and from the web import."""

from __future__ import annotations

import html as html_lib
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Snapshot
from tests.cli.test_imports import REVIEW_HEADER, import_areas, review_rows, write
from tests.factories import make_user
from tests.web.conftest import login_as
from tests.web.test_web_imports import upload

# 150 rows with an unknown area, 40 with a bad resident cell, then one good area's rows.
BAD = (
    REVIEW_HEADER
    + "".join(f"ZZ{i:03d},2021,P{i},Person {i},yes,member\n" for i in range(150))
    + "".join(f"BL001,2021,Q{i},Other {i},perhaps,member\n" for i in range(40))
    + review_rows("BL002", 2021, 9, 6)
)
PER_REASON = [
    "150 × column area_code: unknown area '…' (import it with the areas file first)",
    "40 × column resident: '…' is not yes/no (yes, no, y, n, true, false, 1, 0)",
]
TAIL = "… and 90 more (190 problems in all). Problems per reason:"


def test_the_cli_prints_the_first_100_problems_and_a_count_per_reason(app, runner, tmp_path):
    import_areas(runner, tmp_path)

    result = runner.invoke(args=["reviews", "import", write(tmp_path, "bad.csv", BAD)])

    assert result.exit_code == 1
    lines = [line.strip() for line in result.stderr.splitlines()]
    rows = [line for line in lines if line.startswith("row ")]
    assert len(rows) == 100
    assert (
        rows[0]
        == "row 2, column area_code: unknown area 'ZZ000' (import it with the areas file first)"
    )
    assert lines[-3:] == [TAIL, *PER_REASON]
    assert len(lines) == 1 + 100 + 3  # the heading, 100 rows, the summary: not 190 lines
    assert db.session.scalar(select(func.count()).select_from(Snapshot)) == 0


def test_a_few_problems_are_all_listed_without_a_summary(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    few = REVIEW_HEADER + "".join(f"ZZ{i:03d},2021,P{i},P {i},yes,member\n" for i in range(5))

    result = runner.invoke(args=["reviews", "import", write(tmp_path, "few.csv", few)])

    assert result.exit_code == 1
    assert result.stderr.count("row ") == 5 and "per reason" not in result.stderr


def test_the_web_import_shows_the_same_lines_as_the_cli(app, runner, client, tmp_path):
    import_areas(runner, tmp_path)
    cli = runner.invoke(args=["reviews", "import", write(tmp_path, "bad.csv", BAD)])
    login_as(client, make_user("programme"))
    db.session.commit()

    response = upload(client, "reviews", BAD)

    assert response.status_code == 400
    page = html_lib.unescape(response.get_data(as_text=True))
    problems = page[page.index('id="problems"') :]
    shown = re.findall(r"<li>([^<]+)</li>", problems)
    cli_lines = [line.strip() for line in cli.stderr.splitlines()[1:]]
    assert shown == [line for line in cli_lines if line != TAIL]
    assert TAIL in problems
