"""The benchmark (`make bench`): its 10× programme has ten times the programme's sizes, and its
--quick mode (what CI runs) completes with every query-count check holding."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from app.rules.criteria import evaluate
from bench.data import Programme, write_files
from bench.queries import PAGES

ROOT = Path(__file__).resolve().parent.parent
# The bench makes its own SQLite database (BENCH_DATABASE_URL is left out below), so the
# PostgreSQL run of `make test` would only repeat the SQLite run: it leaves these out.
pytestmark = pytest.mark.own_database


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_ten_times_programme_has_the_sizes_of_the_issue(tmp_path):
    files = write_files(Programme(10), tmp_path, date(2026, 11, 25))
    reviews = read(files.reviews)
    assert 140_000 <= len(reviews) <= 160_000
    rosters: dict[tuple[str, str], list[tuple[bool, str]]] = defaultdict(list)
    for row in reviews:
        entry = (row["resident"] == "yes", row["role"])
        rosters[row["area_code"], row["review_year"]].append(entry)
    reviewed = {code for code, _ in rosters}
    assert len(reviewed) == 1_500
    assert {year for _, year in rosters} == {str(y) for y in range(2015, 2022)}
    counted = [evaluate(roster).members for roster in rosters.values()]
    assert all(m in (8, *range(10, 16)) for m in counted)
    # 10,000 open cases: areas whose 2021 review is flagged, plus one per update-only area.
    flagged_2021 = sum(1 for code in reviewed if evaluate(rosters[code, "2021"]).flag is not None)
    updates: dict[str, list[tuple[bool, str]]] = defaultdict(list)
    for row in read(files.updates):
        updates[row["area_code"]].append((row["resident"] == "yes", row["role"]))
    updated = set(updates)
    assert not updated & reviewed
    assert all(evaluate(roster).flag == "under_criteria" for roster in updates.values())
    assert flagged_2021 + len(updated) == 10_000
    areas = read(files.areas)
    assert {row["area_code"] for row in areas} == reviewed | updated
    assert len({row["rep_email"] for row in areas}) == 500


@pytest.mark.slow
def test_quick_bench_completes_and_query_counts_hold(tmp_path):
    output = tmp_path / "results.md"
    env = {k: v for k, v in os.environ.items() if k != "BENCH_DATABASE_URL"}  # own SQLite file
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = output.read_text(encoding="utf-8")
    assert "| error:" not in table
    rows = [row for row in table.splitlines() if row.startswith("| ")]
    query_rows = [row for row in rows if "SQL queries" in row]
    # A row for every page the bench knows, so a page added to bench.queries.PAGES is checked
    assert [p.name for p in PAGES if not any(f"| SQL queries: {p.name} |" in r for r in rows)] == []
    assert any("reminders sweep`: SQL queries" in line for line in query_rows)
    for line in query_rows:
        assert line.rstrip().endswith("| ok |"), line
    for line in query_rows:
        if "each of the 9 terms" in line:  # one count per search term, each within its limit
            counts = [int(n) for n in re.findall(r"\d+", line.split("|")[3])]
            assert len(counts) == 9 and max(counts) <= 8, line
            continue
        if "reminders sweep" in line:
            continue
        counts = [int(n) for n in re.findall(r"(\d+) \(\d", line)]
        assert len(counts) == 2 and counts[0] == counts[1] <= 20, line
