"""The page rows: p50/p95 latency and throughput relative to a hello-world route of the same
app, through gunicorn with 2 workers and a signed-in session."""

from __future__ import annotations

import statistics

from bench import data
from bench.load import Loaded
from bench.measure import Bench
from bench.queries import PAGES, missing_page
from bench.report import MISSED, OK, Row, errored, millis, not_available
from bench.web import HELLO, THREADS, Client, Timing, gunicorn, measure

P95_TARGET, RATIO_TARGET = 0.150, 0.25


def measure_pages(bench: Bench, loaded: Loaded, sequential: int, concurrent: int) -> str:
    """Add the latency and throughput rows; returns a footnote describing the method."""
    available = [page for page in PAGES if not missing_page(bench.app, page)]
    for page in PAGES:
        reason = missing_page(bench.app, page)
        if reason:
            bench.report.add(not_available(f"{page.name}: p50 / p95", "p95 < 150 ms", reason))
            bench.report.add(not_available(f"{page.name}: throughput ÷ hello", "≥ 0.25", reason))
    if not available:
        return ""
    timings: dict[str, list[Timing]] = {page.name: [] for page in available}
    hello: list[Timing] = []
    try:
        with gunicorn(bench.db) as port:
            rep = Client(port).sign_in(loaded.rep_email)
            programme = Client(port).sign_in(data.PROGRAMME_EMAIL)
            for _ in range(bench.runs):
                hello.append(measure(Client(port), HELLO, sequential, concurrent))
                for page in available:
                    client = rep if page.as_rep else programme
                    timings[page.name].append(
                        measure(client, page.path(loaded), sequential, concurrent)
                    )
    except Exception as exc:
        for page in available:
            bench.report.add(errored(f"{page.name}: p50 / p95", "p95 < 150 ms", exc))
        return ""
    hello_rps = statistics.median(t.rps for t in hello)
    for page in available:
        runs = timings[page.name]
        p50 = statistics.median(t.p50 for t in runs)
        p95 = statistics.median(t.p95 for t in runs)
        rps = statistics.median(t.rps for t in runs)
        ratio = statistics.median(t.rps / h.rps for t, h in zip(runs, hello, strict=True))
        bench.report.add(
            Row(
                f"{page.name}: p50 / p95",
                "p95 < 150 ms",
                runs=len(runs),
                median=f"{millis(p50)} / {millis(p95)}",
                result=_judge(p95 < P95_TARGET, bench.judge),
            )
        )
        bench.report.add(
            Row(
                f"{page.name}: throughput ÷ hello",
                f"≥ {RATIO_TARGET}",
                runs=len(runs),
                median=f"{ratio:.2f} ({rps:.0f} ÷ {hello_rps:.0f} req/s)",
                result=_judge(ratio >= RATIO_TARGET, bench.judge),
            )
        )
    return (
        f"Pages: gunicorn -w 2 (sync workers) serving bench.wsgi:app; per run and page "
        f"{sequential} sequential requests (p50/p95) then {concurrent} requests from {THREADS} "
        f"threads (req/s); a new connection per request. Signed in through /sign-in as the "
        f"case's rep ({loaded.rep_email}: My cases, case page #{loaded.case_id}) or as the "
        f"programme team (case list, dashboard, search for 'an'). Hello = GET {HELLO} of the "
        f"same app, same run: {hello_rps:.0f} req/s."
    )


def _judge(passes: bool, judge: bool) -> str:
    if not judge:
        return "not judged (--quick)"
    return OK if passes else MISSED
