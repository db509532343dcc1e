"""The page rows, through gunicorn (2 workers on SQLite, 4 on PostgreSQL) with a signed-in
session: p50/p95 of one-at-a-time requests, then a sustained load (wrk, keep-alive, from a
second process) giving p50/p95/p99 and requests/s, against a hello-world route of the same app
loaded the same way in the same run."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench import data
from bench.load import Loaded
from bench.measure import Bench
from bench.queries import PAGES, Page, missing_page
from bench.report import MISSED, OK, Row, errored, millis, not_available
from bench.throughput import CONNECTIONS, Load, sustained, tool
from bench.web import HELLO, Client, Timing, gunicorn, latency

P95_TARGET = 0.100


@dataclass(frozen=True)
class Target:
    p95: float = P95_TARGET
    ratio: float | None = None  # throughput ÷ hello; None: shown, not judged


# The targets; every other page: p95 under 100 ms, its throughput shown.
TARGETS = {
    "My cases": Target(0.050, 0.25),
    "case page": Target(0.050, 0.25),
    "programme case list": Target(0.050, 0.15),
    "dashboard": Target(0.100, 0.15),
}


def workers_for(bench: Bench) -> int:
    """PostgreSQL runs the pages with 4 workers: the shape of a deployment beyond one machine."""
    return 4 if bench.db.kind == "PostgreSQL" else 2


def measure_pages(bench: Bench, loaded: Loaded, sequential: int, load_seconds: float) -> str:
    """Add the latency and throughput rows; returns a footnote describing the method."""
    available = [page for page in PAGES if not missing_page(bench.app, page)]
    for page in PAGES:
        reason = missing_page(bench.app, page)
        if reason:
            bench.report.add(not_available(f"{page.name}: p50 / p95", _p95_text(page), reason))
    if not available:
        return ""
    timings: dict[str, list[Timing]] = {page.name: [] for page in available}
    loads: dict[str, list[Load]] = {page.name: [] for page in available}
    hello: list[Load] = []
    workers = workers_for(bench)
    try:
        with gunicorn(bench.db, workers) as port:
            clients = {
                True: Client(port, keep_alive=True).sign_in(loaded.rep_email),
                False: Client(port, keep_alive=True).sign_in(data.PROGRAMME_EMAIL),
            }
            for _ in range(bench.runs):
                hello.append(sustained(port, HELLO, {}, load_seconds))
                for page in available:
                    client, path = clients[page.as_rep], page.path(loaded)
                    timings[page.name].append(latency(client, path, sequential))
                    loads[page.name].append(sustained(port, path, client.cookies, load_seconds))
            for client in clients.values():
                client.close()
    except Exception as exc:
        for page in available:
            bench.report.add(errored(f"{page.name}: p50 / p95", _p95_text(page), exc))
        return ""
    hello_rps = statistics.median(h.rps for h in hello)
    for page in available:
        _page_rows(bench, page, timings[page.name], loads[page.name], hello)
    return (
        f"Pages: gunicorn -w {workers} -k gthread --threads 2 --preload serving "
        f"bench.wsgi:app. Per run and page: {sequential} one-at-a-time requests over a kept-alive "
        f"connection (p50/p95: the latency rows), then {load_seconds:g} s of sustained load from "
        f"{tool()} with {CONNECTIONS} keep-alive connections (p50/p95/p99 under load, req/s). "
        f"Signed in through /sign-in as the case's rep ({loaded.rep_email}: My cases, case page "
        f"#{loaded.case_id}) or as the programme team (the other pages). Hello = GET {HELLO} "
        f"of the same app under the same load, same run: {hello_rps:.0f} req/s."
    )


def _p95_text(page: Page) -> str:
    return f"p95 < {TARGETS.get(page.name, Target()).p95 * 1000:.0f} ms"


def _page_rows(
    bench: Bench, page: Page, runs: list[Timing], loads: list[Load], hello: list[Load]
) -> None:
    target = TARGETS.get(page.name, Target())
    p50 = statistics.median(t.p50 for t in runs)
    p95 = statistics.median(t.p95 for t in runs)
    bench.figures[f"p95: {page.name}"] = p95
    bench.report.add(
        Row(
            f"{page.name}: p50 / p95",
            _p95_text(page),
            runs=len(runs),
            median=f"{millis(p50)} / {millis(p95)}",
            result=_judge(p95 < target.p95, bench.judge),
        )
    )
    rps = statistics.median(x.rps for x in loads)
    ratio = statistics.median(x.rps / h.rps for x, h in zip(loads, hello, strict=True))
    under = "/".join(
        millis(statistics.median(getattr(x, q) for x in loads)) for q in ("p50", "p95", "p99")
    )
    hello_rps = statistics.median(h.rps for h in hello)
    bench.report.add(
        Row(
            f"{page.name}: throughput ÷ hello (under load p50/p95/p99 {under})",
            f"≥ {target.ratio}" if target.ratio else "— (shown)",
            runs=len(loads),
            median=f"{ratio:.2f} ({rps:.0f} ÷ {hello_rps:.0f} req/s)",
            result=_judge(ratio >= target.ratio, bench.judge) if target.ratio else "info",
        )
    )


def _judge(passes: bool, judge: bool) -> str:
    if not judge:
        return "not judged (--quick)"
    return OK if passes else MISSED
