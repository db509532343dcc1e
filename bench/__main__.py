"""`python -m bench [--quick] [--runs N] [--output FILE] [--keep]`

Full: the programme at 10× (SQLite in a temp dir, or BENCH_DATABASE_URL), the median of N
runs of each measurement against its target, and query counts compared with 1×.
--quick (CI): 1×, one run, query counts compared with 0.2×; only the query counts (and that
everything completes) decide the exit status, never the timings."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import data, load, queries
from bench.env import ROOT, Database, make_app
from bench.measure import (
    Bench,
    empty_outbox,
    measure_import,
    measure_insights,
    measure_outbox,
    measure_startup,
    measure_sweep,
)
from bench.pages import measure_pages
from bench.report import Report, errored
from bench.web_import import measure_web_import
from bench.write_stall import measure_write_stall


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1× and one run (what CI runs)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--output", type=Path, help="where to write the Markdown table")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (SQLite, CSVs)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    runs = 1 if args.quick else args.runs
    small, large = (
        (data.Programme(0.2), data.Programme(1))
        if args.quick
        else (
            data.Programme(1),
            data.Programme(10),
        )
    )
    output = args.output or ROOT / "bench" / ("results-quick.md" if args.quick else "results.md")
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    db = Database(folder, os.environ.get("BENCH_DATABASE_URL") or None)
    now = datetime.now(UTC).replace(microsecond=0)
    mode = "--quick" if args.quick else "full"
    report = Report(
        f"Benchmark ({mode}): the programme at {large.label}, {db.kind}, {now:%Y-%m-%d %H:%M} UTC"
    )
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    try:
        run_all(report, db, folder, small, large, runs, args.quick, now)
    except Exception as exc:  # a broken step still leaves a table saying what broke
        report.add(errored("bench run", "completes", exc))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    report.notes.append(
        f"Machine: {os.cpu_count()} CPUs, load average {load_before:.1f} at the start "
        f"(shared machine: timings are noisy). Whole bench: {time.perf_counter() - started:.0f} s."
    )
    text = report.markdown()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print("\n" + text)
    print(f"Written to {output}")
    if report.failed:
        print(
            "FAILED: a query-count check missed or a step broke (see the table).", file=sys.stderr
        )
        return 1
    return 0


def run_all(report, db, folder, small, large, runs, quick, now) -> None:
    today = now.date()
    print(f"Loading the {small.label} programme (for the query-count comparison)…", flush=True)
    files = load.prepare(small, db, folder / "small", today)
    app = make_app(db)
    load.add_users(app, now)
    load.import_reviews(db, files)
    loaded_small = load.finish(app, db, files, now, today)
    small_counts = queries.page_queries(app, loaded_small)
    small_counts["sweep"] = queries.sweep_queries(app, now)
    release(app)

    print(f"Loading the {large.label} programme and measuring ({runs} run(s) each)…", flush=True)
    files = load.prepare(large, db, folder / "large", today)
    app = make_app(db)
    load.add_users(app, now)
    bench = Bench(db, app, large, files, report, runs, not quick, now, today)
    measure_startup(bench)
    measure_import(bench)
    if not quick:
        # The web import waits on a background job through gunicorn; in the quick run (CI) it
        # has been seen to wait out its 10-minute limit, so it is measured in the full bench only.
        measure_web_import(bench)
    measure_write_stall(bench)
    loaded = load.finish(app, db, files, now, today)
    measure_insights(bench)
    sweep_line = measure_sweep(bench)
    measure_outbox(bench)
    sequential, concurrent = (20, 20) if quick else (60, 60)
    pages_note = measure_pages(bench, loaded, sequential, concurrent)
    empty_outbox(app)  # the sweep is counted with nothing queued, as at the small size
    large_counts = queries.page_queries(app, loaded)
    large_counts["sweep"] = queries.sweep_queries(app, now)
    queries.add_rows(report, small_counts, large_counts, (small.label, large.label))
    release(app)
    notes(report, large, files, loaded, loaded_small, sweep_line, pages_note, db)


def release(app) -> None:
    """Close the bench process's connections (PostgreSQL: so the schema can be dropped)."""
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def notes(report, large, files, loaded, loaded_small, sweep_line, pages_note, db) -> None:
    report.notes += [
        f"Data ({large.label}): {loaded.areas:,} areas, {loaded.reps:,} reps, "
        f"{loaded.roster_rows:,} roster rows, {loaded.open_cases:,} open cases, "
        f"{loaded.actions:,} actions (5 per open case; owners partnership/rep/programme; due "
        f"dates from 35 days ago to 35 days ahead; 80% open). Query counts compared with "
        f"{loaded_small.areas:,} areas / {loaded_small.open_cases:,} open cases.",
        f"Why {loaded.areas:,} areas: one open case per area is enforced by the database, so "
        f"{loaded.open_cases:,} open cases need as many areas. {large.reviewed_areas:,} areas "
        f"have seven annual reviews (2015–2021, 10–15 counted members, plus a worker and "
        f"usually the LTO rep: the {files.review_rows:,}-row file that is timed); "
        f"{files.open_from_reviews:,} are flagged in 2021. The other {files.extra_areas:,} "
        f"areas each have one in-year update (6 counted members, loaded with "
        f"`flask updates import`, which opens their cases through the real rules). Insights "
        f"exclude in-year updates, so they see exactly the {large.reviewed_areas:,} reviewed "
        f"areas. Plans, actions and their events are bulk-inserted.",
        "Times are wall-clock from process start of `flask --app app …` (interpreter start, "
        "app factory, work, exit). Memory: max RSS of the import process (os.wait4).",
        f"Sweep: `--now` = the bench's start; the outbox is emptied before each run so every "
        f"run does the same work. Last run: {sweep_line or 'n/a'}",
        "Outbox: 1,000 queued reminders on open cases (each send writes an `email_sent` event), "
        "delivered to an aiosmtpd server in the bench process.",
        "SQL queries: in-process Flask test client signed in through /sign-in, statements of a "
        "warm second request (SAVEPOINT/RELEASE/PRAGMA not counted); the sweep is counted "
        "in-process on the same data and rolled back.",
    ]
    if pages_note:
        report.notes.append(pages_note)


if __name__ == "__main__":
    sys.exit(main())
