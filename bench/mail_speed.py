"""Mail speed rows (issue 12 item 10): `flask outbox send` of 1,000 mails through a local
aiosmtpd server, and the first reminder sweep of the whole backlog, each < 5 s from process start.

`run_all` in bench/__main__.py calls `measure_mail_speed(bench)`. On their own, on a 10×
programme loaded once and kept for the next time:

    python -m bench.mail_speed [--runs N] [--folder DIR] [--scale 10]
"""

from __future__ import annotations

import argparse
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.env import Database, flask, free_port
from bench.measure import MAILS, empty_outbox, queue_mail
from bench.report import Report, errored, judged, seconds

TARGET = "< 5 s"


def measure_mail_speed(bench: Any) -> None:
    """Both rows; `bench` has db, app, report, runs, judge and now (bench.measure.Bench)."""
    measure_first_sweep(bench)
    measure_send(bench)


def _iso(now: datetime) -> str:
    return now.isoformat(timespec="seconds")


def measure_first_sweep(bench: Any) -> None:
    """`flask reminders sweep` with nothing queued yet: every reminder due is enqueued."""
    what = "first `flask reminders sweep` of the whole backlog, from process start"
    times, mails = [], 0
    try:
        for _ in range(bench.runs):
            empty_outbox(bench.app)
            run = flask(bench.db, "reminders", "sweep", "--now", _iso(bench.now))
            run.check("flask reminders sweep")
            times.append(run.seconds)
            mails = _queued(bench.app)
    except Exception as exc:
        bench.report.add(errored(what, TARGET, exc))
        return
    what = (
        f"first `flask reminders sweep` of the whole backlog ({mails:,} mails), from process start"
    )
    bench.report.add(judged(what, TARGET, times, seconds, lambda v: v < 5, bench.judge))


def _queued(app) -> int:
    from app.extensions import db
    from app.models import OutboxMessage

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


class _Counter:
    """aiosmtpd handler: counts the messages accepted and the connections that sent them."""

    def __init__(self) -> None:
        self.count = 0
        self.peers: set = set()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        with self.lock:
            self.count += 1
            self.peers.add(session.peer)
        return "250 OK"


def measure_send(bench: Any) -> None:
    what = f"`flask outbox send` of {MAILS:,} mails through aiosmtpd, from process start"
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:
        bench.report.add(errored(what, TARGET, exc))
        return
    counter = _Counter()
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    times = []
    try:
        for n in range(bench.runs):
            empty_outbox(bench.app)
            queue_mail(bench.app, bench.now, n, prefix="bench-mail")
            before, peers = counter.count, len(counter.peers)
            run = flask(
                bench.db,
                "outbox",
                "send",
                "--now",
                _iso(bench.now),
                MAIL_SERVER="127.0.0.1",
                MAIL_PORT=str(port),
                MAIL_USE_TLS="0",
            ).check("flask outbox send")
            if counter.count - before != MAILS:
                raise RuntimeError(f"the SMTP server received {counter.count - before} of {MAILS}")
            connections = len(counter.peers) - peers
            times.append(run.seconds)
    except Exception as exc:
        bench.report.add(errored(what, TARGET, exc))
        return
    finally:
        controller.stop()
    what += f" ({connections} SMTP connections, one per batch of 100)"
    bench.report.add(judged(what, TARGET, times, seconds, lambda v: v < 5, bench.judge))


# --- on their own -----------------------------------------------------------------------------


@dataclass
class _Bench:
    db: Database
    app: Any
    report: Report
    runs: int
    judge: bool
    now: datetime


def _load(scale: float, db: Database, folder: Path, now: datetime, today: date):
    from bench import data, load
    from bench.env import make_app

    programme = data.Programme(scale)
    print(f"Loading the {programme.label} programme into {folder}…", flush=True)
    files = load.prepare(programme, db, folder / "programme", today)
    app = make_app(db)
    load.add_users(app, now)
    load.import_reviews(db, files)
    load.finish(app, db, files, now, today)
    (folder / "loaded").write_text(now.isoformat(), encoding="utf-8")
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mail_speed")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/bench-mail-speed"))
    args = parser.parse_args(argv)
    from bench.env import make_app

    args.folder.mkdir(parents=True, exist_ok=True)
    db = Database(args.folder)
    marker = args.folder / "loaded"
    if marker.exists():
        now = datetime.fromisoformat(marker.read_text(encoding="utf-8"))
        app = make_app(db)
    else:
        now = datetime.now(UTC).replace(microsecond=0)
        app = _load(args.scale, db, args.folder, now, now.date())
    report = Report(f"Mail speed: the programme at {args.scale:g}×, SQLite")
    measure_mail_speed(_Bench(db, app, report, args.runs, True, now))
    print("\n" + report.markdown())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
