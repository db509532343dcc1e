"""The command-line measurements: import, re-import, insights, reminder sweep, outbox sender.
Each is a `flask` subprocess timed from its process start, as an operator would run it."""

from __future__ import annotations

import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import delete, func, select

from bench import data, load
from bench.env import Database, flask, free_port, has_command
from bench.report import Report, errored, judged, megabytes, not_available, seconds


@dataclass
class Bench:
    """What every measurement needs: the database, the app on it, the sizes and the clock."""

    db: Database
    app: Flask
    programme: data.Programme
    files: data.Files
    report: Report
    runs: int
    judge: bool  # False in --quick: timings are shown, not judged
    now: datetime
    today: date
    # Medians by short name ("import", "p95: dashboard", …): the growth table's cells.
    figures: dict[str, float] = field(default_factory=dict)
    # SQL statements per page (or why not measured), for the growth table.
    query_counts: dict[str, object] = field(default_factory=dict)

    def record(self, name: str, values: list[float]) -> list[float]:
        if values:
            self.figures[name] = statistics.median(values)
        return values

    @property
    def now_iso(self) -> str:
        return self.now.isoformat(timespec="seconds")


def measure_import(bench: Bench) -> None:
    """The 150,000-row reviews file into a database holding only the areas, then again."""
    what = f"`flask reviews import` ({bench.files.review_rows:,} rows), from process start"
    memory_what = "… its peak memory (max RSS of the process)"
    runs = []
    try:
        for n in range(bench.runs):
            if n:
                load.reset_reviews(bench.app)
            runs.append(load.import_reviews(bench.db, bench.files))
    except Exception as exc:
        bench.report.add(errored(what, "< 15 s", exc))
        bench.report.add(errored(memory_what, "< 300 MB", exc))
        return
    report, judge = bench.report, bench.judge
    times = bench.record("import", [r.seconds for r in runs])
    report.add(judged(what, "< 15 s", times, seconds, lambda v: v < 15, judge))
    report.add(
        judged(
            memory_what,
            "< 300 MB",
            [r.max_rss_mb for r in runs],
            megabytes,
            lambda v: v < 300,
            judge,
        )
    )
    reimports = []
    what = "re-import of the same file (no change)"
    try:
        for _ in range(bench.runs):
            before = _fingerprint(bench.app)
            run = load.import_reviews(bench.db, bench.files)
            if _fingerprint(bench.app) != before:
                raise RuntimeError(f"the re-import changed something: {run.stdout.strip()}")
            reimports.append(run.seconds)
    except Exception as exc:
        report.add(errored(what, "< 10 s", exc))
        return
    bench.record("re-import", reimports)
    report.add(judged(what, "< 10 s", reimports, seconds, lambda v: v < 10, judge))


STARTUP_RUNS = 5


def measure_startup(bench: Bench) -> None:
    """`flask routes`: interpreter start plus app factory, in every command's timing. Under a
    second a run, so it is timed STARTUP_RUNS times whatever --runs says (median), after one
    run that is not counted: a single sample was as likely to time the disk cache (the
    bytecode just written) as the start-up."""
    what = (
        f"`flask routes` from process start (interpreter, app factory, no work), median of "
        f"{max(bench.runs, STARTUP_RUNS)} after one uncounted"
    )
    try:
        flask(bench.db, "routes").check("flask routes")
        runs = max(bench.runs, STARTUP_RUNS)
        times = [flask(bench.db, "routes").check("flask routes").seconds for _ in range(runs)]
    except Exception as exc:
        bench.report.add(errored(what, "< 0.8 s", exc))
        return
    bench.record("flask routes", times)
    bench.report.add(judged(what, "< 0.8 s", times, seconds, lambda v: v < 0.8, bench.judge))


def measure_demo_generator(bench: Bench) -> None:
    """`app.demo.generator.generate()`: the demo programme built in memory (no database), the
    work behind `flask demo load` and the demo tests' fixtures. In this process: wall and CPU
    seconds of the call alone."""
    from app.demo.generator import generate

    what = "demo programme generator (`generate()`, in memory, no database)"
    cpu_what = "… its CPU time"
    times, cpu = [], []
    try:
        for _ in range(bench.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            programme = generate()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            if not programme.snapshots:
                raise RuntimeError("the generator made no reviews")
    except Exception as exc:
        bench.report.add(errored(what, "< 2 s", exc))
        return
    bench.record("demo generator", times)
    bench.report.add(judged(what, "< 2 s", times, seconds, lambda v: v < 2, bench.judge))
    bench.report.add(judged(cpu_what, "< 2 s", cpu, seconds, lambda v: v < 2, bench.judge))


def measure_insights(bench: Bench) -> None:
    what = "`flask insights --json`"
    if not has_command(bench.app, "insights"):
        bench.report.add(not_available(what, "< 2 s", "no `flask insights` command"))
        return
    times = []
    try:
        for _ in range(bench.runs):
            run = flask(bench.db, "insights", "--json").check("flask insights --json")
            figures = json.loads(run.stdout)
            if not figures.get("review_years"):
                raise RuntimeError("insights found no review years")
            times.append(run.seconds)
    except Exception as exc:
        bench.report.add(errored(what, "< 2 s", exc))
        return
    bench.record("insights", times)
    bench.report.add(judged(what, "< 2 s", times, seconds, lambda v: v < 2, bench.judge))


def empty_outbox(app: Flask) -> None:
    from app.extensions import db
    from app.models import CaseEvent, OutboxMessage
    from app.rules.vocabulary import EventKind

    with app.app_context():
        db.session.execute(delete(OutboxMessage))
        db.session.execute(
            delete(CaseEvent).where(
                CaseEvent.kind.in_((EventKind.EMAIL_SENT, EventKind.EMAIL_FAILED))
            )
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does in a deployment (it is off on this machine's server): without
            # it the next runs read past every row the bench has deleted (the sender's claim
            # took 26 ms a batch at the bench's ~90,000 dead rows, 0.55 s at a million).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE outbox, case_events")


def measure_sweep(bench: Bench) -> str:
    """Time `flask reminders sweep` over every open case; returns its summary line."""
    loaded = (
        f"{bench.programme.open_cases:,} open cases, {bench.programme.open_cases * 5:,} actions"
    )
    what = f"`flask reminders sweep` over {loaded}"
    if not has_command(bench.app, "reminders", "sweep"):
        bench.report.add(not_available(what, "< 5 s", "no `flask reminders sweep` command"))
        return ""
    times, line = [], ""
    try:
        for _ in range(bench.runs):
            empty_outbox(bench.app)  # each run does the same work: nothing queued yet
            run = flask(bench.db, "reminders", "sweep", "--now", bench.now_iso)
            line = run.check("flask reminders sweep").stdout.strip()
            times.append(run.seconds)
    except Exception as exc:
        bench.report.add(errored(what, "< 5 s", exc))
        return ""
    bench.record("sweep", times)
    bench.report.add(judged(what, "< 5 s", times, seconds, lambda v: v < 5, bench.judge))
    # The routine case: the scheduler sweeps every 5 minutes, so what is due is mostly queued
    # already and a sweep only adds the few new reminders (an hour later here).
    later = (datetime.fromisoformat(bench.now_iso) + timedelta(hours=1)).isoformat()
    routine = []
    try:
        for _ in range(bench.runs):
            run = flask(bench.db, "reminders", "sweep", "--now", later)
            run.check("flask reminders sweep")
            routine.append(run.seconds)
    except Exception as exc:
        bench.report.add(errored(f"{what}, routine run", "< 5 s", exc))
        return line
    bench.report.add(
        judged(
            f"{what}, routine run (backlog already queued)",
            "< 5 s",
            routine,
            seconds,
            lambda v: v < 5,
            bench.judge,
        )
    )
    return line


class Recorder:
    """aiosmtpd handler: counts the messages the local SMTP server accepts."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        with self.lock:
            self.count += 1
        return "250 OK"


MAILS = 1000


def measure_outbox(bench: Bench) -> None:
    what = f"`flask outbox send` of {MAILS:,} mails to a local SMTP server"
    if not has_command(bench.app, "outbox", "send"):
        bench.report.add(not_available(what, "< 10 s", "no `flask outbox send` command"))
        return
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        bench.report.add(not_available(what, "< 10 s", "aiosmtpd is not installed"))
        return
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    try:
        controller.start()
    except Exception as exc:
        bench.report.add(errored(what, "< 10 s", exc))
        return
    try:
        times = []
        for n in range(bench.runs):
            empty_outbox(bench.app)
            queue_mail(bench.app, bench.now, n)
            before = recorder.count
            run = flask(
                bench.db,
                "outbox",
                "send",
                "--now",
                bench.now_iso,
                MAIL_SERVER="127.0.0.1",
                MAIL_PORT=str(port),
                MAIL_USE_TLS="0",
            ).check("flask outbox send")
            delivered = recorder.count - before
            if delivered != MAILS:
                raise RuntimeError(f"the SMTP server received {delivered} of {MAILS} mails")
            times.append(run.seconds)
    except Exception as exc:
        bench.report.add(errored(what, "< 10 s", exc))
        return
    finally:
        controller.stop()
    bench.record("send", times)
    bench.report.add(judged(what, "< 10 s", times, seconds, lambda v: v < 10, bench.judge))


def queue_mail(app: Flask, now: datetime, run: int, prefix: str = "bench") -> None:
    """MAILS queued reminders, each on an open case (so sending writes its timeline event), to
    contacts who still take mail (so every one is delivered). Also bench/mail_speed.py's."""
    from app.extensions import db
    from app.models import Case, Contact, OutboxMessage
    from app.rules.vocabulary import OPEN_STATUSES, OutboxStatus, ReminderKind

    with app.app_context():
        targets = db.session.execute(
            select(Case.id, Contact.id, Contact.email)
            .join(Contact, Contact.area_id == Case.area_id)
            .where(Case.status.in_(OPEN_STATUSES), Contact.opted_out.is_(False))
            .order_by(Case.id, Contact.id)
            .limit(MAILS)
        ).all()
        body = "Your action 'Invite residents to the next meeting' is due on 2 Dec 2026.\n" * 8
        rows = [
            {
                "key": f"{prefix}:{run}:{n}",
                "kind": ReminderKind.DUE_SOON,
                "recipient": targets[n % len(targets)][2],
                "reply_to": f"rep0001@{data.DOMAIN}",
                "subject": f"Bench reminder {n}: an action is due soon",
                "body_text": body,
                "body_html": "<p>" + body.replace("\n", "<br>") + "</p>",
                "case_id": targets[n % len(targets)][0],
                "contact_id": targets[n % len(targets)][1],
                "not_before": now - timedelta(hours=1),
                "status": OutboxStatus.QUEUED,
                "attempts": 0,
                "created_at": now - timedelta(hours=1),
            }
            for n in range(MAILS)
        ]
        db.session.execute(OutboxMessage.__table__.insert(), rows)
        db.session.commit()
        queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        assert queued == MAILS, queued


def _fingerprint(app: Flask) -> tuple[int, ...]:
    """Row counts that any change by an import would move."""
    from app.extensions import db
    from app.models import Case, CaseEvent, RosterEntry, Snapshot

    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Snapshot, RosterEntry, Case, CaseEvent)
        )
