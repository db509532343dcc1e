"""The search rows: the header search at 10× through gunicorn, a term of every kind (case
number, area code and name, rep, contact, partnership member, a word in notes, a common
fragment), as the programme team and as a rep, and the SQL statements each term runs.

The loaded programme has no notes (its events are bulk-inserted casework), so two notes per
open case are added first: at the end of the run, so no other row sees them."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import select, text

from bench import data
from bench.load import Loaded, _insert
from bench.measure import Bench
from bench.queries import counting
from bench.report import MISSED, OK, Row, errored, millis
from bench.web import Client, gunicorn

P95_TARGET = 0.150
NOTES_PER_CASE = 2
NOTE_TEXTS = (
    "Called the chair: the partnership wants a pumpkin festival to recruit residents.",
    "Met the treasurer; two new members may join after the summer fair.",
    "Emailed the secretary about the action plan and the next meeting date.",
    "Visited the community centre; residents asked about the learning events.",
)


def measure_search(bench: Bench, loaded: Loaded, requests: int = 20) -> None:
    """Add the latency rows (programme, rep) and the query-count row."""
    what = "search, a term of each kind"
    try:
        notes = _add_notes(bench)
        terms = _terms(bench, loaded)
        counts = _query_counts(bench, loaded, terms)
        with gunicorn(bench.db) as port:
            programme = Client(port).sign_in(data.PROGRAMME_EMAIL)
            rep = Client(port).sign_in(loaded.rep_email)
            as_programme = [_latencies(programme, terms, requests) for _ in range(bench.runs)]
            as_rep = [_latencies(rep, terms, requests) for _ in range(bench.runs)]
    except Exception as exc:
        bench.report.add(errored(f"{what}: p50 / p95", f"p95 < {millis(P95_TARGET)}", exc))
        return
    for who, runs in (("programme team", as_programme), ("rep", as_rep)):
        p50 = statistics.median(statistics.median(r) for r in runs)
        p95 = statistics.median(_p95(r) for r in runs)
        bench.report.add(
            Row(
                f"{what}, as the {who}: p50 / p95",
                f"p95 < {millis(P95_TARGET)}",
                runs=len(runs),
                median=f"{millis(p50)} / {millis(p95)}",
                result=_judge(p95 < P95_TARGET, bench.judge),
            )
        )
    # One statement per kind of hit (the case-number one only for a number), plus the
    # session's user: a bound that does not depend on the data or the number of hits.
    bound = _kinds() + 2
    bench.report.add(
        Row(
            f"SQL queries: search, each of the {len(terms)} terms (few hits to thousands)",
            f"≤ {bound} for every term (one per kind + 2)",
            runs=1,
            median=" / ".join(str(n) for n in counts.values()),
            result=OK if max(counts.values()) <= bound else MISSED,
            decisive=True,
        )
    )
    bench.report.notes.append(
        f"Search: {notes:,} notes added first ({NOTES_PER_CASE} per open case). Terms: "
        + ", ".join(f"'{t}'" for t in terms)
        + f"; per run {requests} sequential requests of each term through gunicorn -w 2, "
        f"p50/p95 over all of them; as the programme team and as {loaded.rep_email} (their "
        "own cases and areas only). SQL statements counted in-process per term, as the "
        "programme team."
    )


def _kinds() -> int:
    from app.queries.search import KINDS

    return len(KINDS)


def _add_notes(bench: Bench) -> int:
    from app.extensions import db
    from app.models import Case, CaseEvent
    from app.rules.vocabulary import OPEN_STATUSES, EventKind

    with bench.app.app_context():
        ids = db.session.scalars(select(Case.id).where(Case.status.in_(OPEN_STATUSES))).all()
        rows = [
            {
                "case_id": case_id,
                "kind": EventKind.NOTE.value,
                "actor_id": None,
                "created_at": bench.now - timedelta(days=n + 1, minutes=case_id % 600),
                "message": NOTE_TEXTS[(case_id + n) % len(NOTE_TEXTS)],
                "data": {},
            }
            for case_id in ids
            for n in range(NOTES_PER_CASE)
        ]
        _insert(CaseEvent, rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does after a change of this size (it is off on the bench's
            # server): without it the planner keeps the statistics of a table with no notes.
            with db.engine.connect() as conn:
                conn.execute(text("ANALYZE case_events"))
                conn.commit()
    return len(rows)


def _terms(bench: Bench, loaded: Loaded) -> list[str]:
    """One term per kind, taken from the loaded data so each finds something."""
    from app.extensions import db
    from app.models import Area, Case

    with bench.app.app_context():
        code = db.session.scalar(
            select(Area.code).join(Case, Case.area_id == Area.id).where(Case.id == loaded.case_id)
        )
    return [
        str(loaded.case_id),  # a case number
        code or "BX",  # an area code
        "bench area bl00",  # area names
        "rep0001",  # a rep's email
        "chair of",  # contacts
        "member bl0001",  # partnership members (roster names)
        "pumpkin",  # a word in notes
        "an",  # two letters: names, codes and emails that start with them
        "the",  # a common word: in every note, counted up to the search's COUNT_LIMIT
    ]


def _query_counts(bench: Bench, loaded: Loaded, terms: list[str]) -> dict[str, int]:
    client = bench.app.test_client()
    _sign_in(client, data.PROGRAMME_EMAIL)
    counts = {}
    for term in terms:
        path = f"/search?q={quote(term)}"
        client.get(path)  # warm
        with counting(bench.app) as statements:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} gave HTTP {response.status_code}")
        counts[term] = len(statements)
    return counts


def _sign_in(client, email: str) -> None:
    from bench.queries import csrf_token

    html = client.get("/sign-in").get_data(as_text=True)
    form = {"email": email, "password": data.PASSWORD, "csrf_token": csrf_token(html)}
    if client.post("/sign-in", data=form).status_code != 302:
        raise RuntimeError(f"signing in as {email} failed")


def _latencies(client: Client, terms: list[str], requests: int) -> list[float]:
    latencies = []
    for term in terms:
        path = f"/search?q={quote(term)}"
        client.get(path)  # warm both workers
        client.get(path)
        for _ in range(requests):
            started = time.perf_counter()
            status, _body = client.get(path)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"GET {path} gave HTTP {status}")
    return latencies


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _judge(passes: bool, judge: bool) -> str:
    if not judge:
        return "not judged (--quick)"
    return OK if passes else MISSED
