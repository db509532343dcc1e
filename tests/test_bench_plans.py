"""bench/plans.py's reading of query plans: which tables a statement reads whole."""

from __future__ import annotations

from bench.plans import full_scans

PAGE = "SELECT areas.code FROM areas ORDER BY areas.code LIMIT ? OFFSET ?"


def test_a_plain_scan_is_a_full_scan_with_or_without_a_limit():
    assert full_scans(PAGE, ["SCAN areas"], postgres=False) == {"areas"}
    assert full_scans("SELECT * FROM areas", ["SCAN areas"], postgres=False) == {"areas"}


def test_an_index_walk_that_a_limit_stops_is_not_a_full_scan():
    lines = [
        "SCAN areas USING INDEX sqlite_autoindex_areas_1",
        "SEARCH users USING INTEGER PRIMARY KEY (rowid=?)",
    ]
    assert full_scans(PAGE, lines, postgres=False) == set()


def test_an_index_walk_without_a_limit_or_with_a_sort_is_a_full_scan():
    count = "SELECT count(areas.id) FROM areas"
    assert full_scans(
        count, ["SCAN areas USING COVERING INDEX ix_areas_rep_id"], postgres=False
    ) == {"areas"}
    sorted_page = ["SCAN areas USING INDEX ix_areas_rep_id", "USE TEMP B-TREE FOR ORDER BY"]
    assert full_scans(PAGE, sorted_page, postgres=False) == {"areas"}


def test_postgresql_names_sequential_scans_only():
    lines = [
        "Limit  (cost=0.29..3.10 rows=25 width=40)",
        "  ->  Index Scan using uq_areas_code on areas  (cost=0.29..1300.00 rows=11127 width=40)",
        "        ->  Seq Scan on user_sessions  (cost=0.00..1.68 rows=1 width=4)",
    ]
    assert full_scans(PAGE, lines, postgres=True) == {"user_sessions"}
