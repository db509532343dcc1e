"""Web writes during a large import: while `flask reviews import` (the 150,000-row file, a
subprocess) runs, two browsers post notes through gunicorn; the longest wait of a post and any
failure (a 500, the 503 busy page) are reported. On SQLite a probe connection also measures how
long the import holds the write lock (the longest stretch in which BEGIN IMMEDIATE could not be
had), per 100,000 rows.

Run alone (it builds the 10× programme first): `python -m bench.write_stall [--factor 10]`."""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import make_url, select

from bench import data, load
from bench.env import Database, flask, make_app
from bench.measure import Bench
from bench.queries import csrf_token
from bench.report import Report, Row, errored, judged, seconds
from bench.web import Client, gunicorn

STALL_WHAT = "web write stall during a {rows:,}-row import: longest wait of a note post"
STALL_TARGET = "< 5 s, no failure"
HOLD_WHAT = "… the import's write-lock hold (SQLite), per 100,000 rows"
HOLD_TARGET = "< 3 s"
POSTERS = 2
PAUSE = 0.1  # seconds between one poster's notes
PROBE_EVERY = 0.005


@dataclass
class Posts:
    """What the posting browsers saw: each post's wait, and the failures."""

    waits: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, wait: float, status: int) -> None:
        with self.lock:
            self.waits.append(wait)
            if status != 302:
                self.failures.append(f"HTTP {status} after {wait:.1f} s")


def measure_write_stall(bench: Bench) -> None:
    """Leaves the reviews imported (as the import rows before it do), plus one in-year update
    and its case (an area of the updates file, which the later updates import finds
    unchanged) carrying the posted notes."""
    rows = bench.files.review_rows
    what = STALL_WHAT.format(rows=rows)
    try:
        runs = [_one_run(bench) for _ in range(bench.runs)]
    except Exception as exc:
        bench.report.add(errored(what, STALL_TARGET, exc))
        return
    failures = [f for posts, _hold, _secs in runs for f in posts.failures]
    longest = [max(posts.waits) for posts, _hold, _secs in runs]
    row = judged(what, STALL_TARGET, longest, seconds, lambda v: v < 5, bench.judge)
    posted = sum(len(posts.waits) for posts, _hold, _secs in runs)
    row.median += f" ({posted:,} posts, {len(failures)} failed)"
    if failures:
        row.result = f"MISSED: {len(failures)} failed ({'; '.join(failures[:3])})"
    bench.report.add(row)
    holds = [hold for _posts, hold, _secs in runs]
    if any(hold is None for hold in holds):
        bench.report.add(Row(HOLD_WHAT, HOLD_TARGET, result="not applicable (PostgreSQL)"))
        return
    per_100k = [hold * 100_000 / rows for hold in holds]
    bench.report.add(
        judged(HOLD_WHAT, HOLD_TARGET, per_100k, seconds, lambda v: v < 3, bench.judge)
    )
    imports = ", ".join(f"{secs:.1f} s" for _posts, _hold, secs in runs)
    bench.report.notes.append(
        f"Write stall: {POSTERS} browsers posting notes to one case through gunicorn -w 2 "
        f"({PAUSE:.1f} s apart each) while `flask reviews import` of {rows:,} rows ran "
        f"({imports} each); the lock hold is the longest stretch in which a probe connection "
        f"could not BEGIN IMMEDIATE (every {PROBE_EVERY * 1000:.0f} ms), longest "
        + ", ".join(f"{hold:.2f} s" for hold in holds)
        + " per run."
    )


def _one_run(bench: Bench) -> tuple[Posts, float | None, float]:
    load.reset_reviews(bench.app)
    case_id, rep_email = _a_case_outside_the_file(bench)
    posts = Posts()
    done = threading.Event()
    with gunicorn(bench.db) as port:
        browsers = [Client(port).sign_in(rep_email) for _ in range(POSTERS)]
        tokens = [_token(browser, case_id) for browser in browsers]
        probe = Probe(bench.db) if bench.db.kind == "SQLite" else None
        threads = [
            threading.Thread(target=_post_notes, args=(b, t, case_id, posts, done), daemon=True)
            for b, t in zip(browsers, tokens, strict=True)
        ]
        if probe:
            threads.append(threading.Thread(target=probe.run, args=(done,), daemon=True))
        for thread in threads:
            thread.start()
        try:
            run = load.import_reviews(bench.db, bench.files)
        finally:
            done.set()
            for thread in threads:
                thread.join(60)
    if not posts.waits:
        raise RuntimeError("no note was posted during the import")
    return posts, (probe.longest if probe else None), run.seconds


def _a_case_outside_the_file(bench: Bench) -> tuple[int, str]:
    """The first area of the updates file gets its in-year update (through the real command,
    which opens its case); its case and rep take the notes."""
    text = bench.files.updates.read_text(encoding="utf-8")
    lines = list(csv.reader(io.StringIO(text)))
    header, first = lines[0], lines[1][0]
    path = bench.files.updates.with_name("one-update.csv")
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(line for line in lines[1:] if line[0] == first)
    flask(bench.db, "updates", "import", str(path)).check("flask updates import (one area)")
    from app.extensions import db
    from app.models import Area, Case, User

    with bench.app.app_context():
        case_id, email = db.session.execute(
            select(Case.id, User.email)
            .join(Area, Case.area_id == Area.id)
            .join(User, Case.rep_id == User.id)
            .where(Area.code == first)
        ).one()
        db.session.remove()
    return case_id, email


def _token(browser: Client, case_id: int) -> str:
    status, html = browser.get(f"/cases/{case_id}")
    if status != 200:
        raise RuntimeError(f"GET /cases/{case_id} gave HTTP {status}")
    return csrf_token(html)


def _post_notes(browser: Client, token: str, case_id: int, posts: Posts, done) -> None:
    n = 0
    while not done.is_set():
        n += 1
        body = urlencode({"csrf_token": token, "note": f"Note {n} during the import"})
        started = time.perf_counter()
        try:
            status, _ = browser.request("POST", f"/cases/{case_id}/notes", body)
        except OSError:
            status = 0  # no answer at all: counted as a failure
        posts.add(time.perf_counter() - started, status)
        done.wait(PAUSE)


class Probe:
    """Tries SQLite's write lock every few milliseconds (no waiting); the longest stretch it
    could not be had is the longest hold by another connection."""

    def __init__(self, db: Database) -> None:
        self.path = make_url(db.url).database
        self.longest = 0.0

    def run(self, done: threading.Event) -> None:
        conn = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        busy_since = None
        try:
            while not done.is_set():
                now = time.perf_counter()
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("ROLLBACK")
                except sqlite3.OperationalError:
                    busy_since = busy_since or now
                else:
                    if busy_since is not None:
                        self.longest = max(self.longest, now - busy_since)
                    busy_since = None
                time.sleep(PROBE_EVERY)
            if busy_since is not None:
                self.longest = max(self.longest, time.perf_counter() - busy_since)
        finally:
            conn.close()


def main(argv: list[str] | None = None) -> int:
    """This row alone: the programme at --factor, the reviews imported once, then measured."""
    parser = argparse.ArgumentParser(prog="python -m bench.write_stall")
    parser.add_argument("--factor", type=float, default=10)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-stall-"))
    try:
        db = Database(folder, os.environ.get("BENCH_DATABASE_URL") or None)
        now = datetime.now(UTC).replace(microsecond=0)
        programme = data.Programme(args.factor)
        files = load.prepare(programme, db, folder, now.date())
        app = make_app(db)
        load.add_users(app, now)
        load.import_reviews(db, files)
        report = Report(f"Write stall: the programme at {programme.label}, {db.kind}")
        bench = Bench(db, app, programme, files, report, args.runs, True, now, now.date())
        measure_write_stall(bench)
        print(report.markdown())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
