"""SQL statements per page and per sweep, counted in-process at two programme sizes: a page or
a sweep that reads in a fixed number of queries shows the same count at both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import event

from bench import data
from bench.load import Loaded
from bench.report import MISSED, OK, Report, Row, errored, not_available

MAX_QUERIES = 20
IGNORED = ("SAVEPOINT", "RELEASE", "PRAGMA")
READS = ("SELECT", "WITH")


@dataclass(frozen=True)
class Page:
    name: str
    endpoint: str
    as_rep: bool  # signed in as the case's rep, else as the programme team
    query: str = ""  # a query string, e.g. the case page's Emails tab

    def path(self, loaded: Loaded) -> str:
        if self.endpoint == "cases.show":
            return f"/cases/{loaded.case_id}{self.query}"
        if self.endpoint == "areas.show":
            return f"/areas/{loaded.area_code}{self.query}"
        return PATHS[self.endpoint] + self.query


PATHS = {
    "cases.mine": "/my-cases",
    "programme.cases": "/cases",
    "dashboard.index": "/dashboard",
    # A common fragment: many hits in every kind, so each LIKE scans and ranks for real.
    "search.index": "/search?q=an",
    "due.index": "/due-soon",
    "imports.index": "/imports",
    "outbox.index": "/outbox",
    "areas.index": "/areas",
    "insights.index": "/insights",
    "programme.unassigned": "/cases/unassigned",
}
PAGES = (
    Page("My cases", "cases.mine", True),
    Page("case page", "cases.show", True),
    Page("programme case list", "programme.cases", False),
    Page("dashboard", "dashboard.index", False),
    Page("search", "search.index", False),
    Page("case page, Emails tab", "cases.show", True, "?events=emails"),
    Page("Due soon", "due.index", False),
    Page("imports", "imports.index", False),
    Page("outbox", "outbox.index", False),
    Page("areas list", "areas.index", False),
    Page("area page", "areas.show", True),
    Page("insights", "insights.index", False),
    Page("unassigned cases", "programme.unassigned", False),
)
SIGN_IN = "auth.login"


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements run on the app's engine inside the block."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.lstrip().upper().startswith(IGNORED):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def missing_page(app: Flask, page: Page) -> str | None:
    """Why a page cannot be measured yet, or None."""
    if SIGN_IN not in app.view_functions:
        return "no sign-in page (auth.login)"
    if page.endpoint not in app.view_functions:
        return f"no {page.endpoint} view"
    return None


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if not match:
        raise RuntimeError("the sign-in page has no csrf_token field")
    return match.group(1)


def signed_in_client(app: Flask, email: str):
    """A test client signed in through the real sign-in form."""
    client = app.test_client()
    page = client.get("/sign-in")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/sign-in", data={"email": email, "password": data.PASSWORD, "csrf_token": token}
    )
    if response.status_code != 302:
        raise RuntimeError(f"signing in as {email} gave HTTP {response.status_code}")
    return client


def page_queries(app: Flask, loaded: Loaded) -> dict[str, int | str]:
    """Statements per page (a warm second request), or why the page could not be measured."""
    counts: dict[str, int | str] = {}
    clients = {}
    for page in PAGES:
        reason = missing_page(app, page)
        if reason:
            counts[page.name] = f"not available yet: {reason}"
            continue
        try:
            email = loaded.rep_email if page.as_rep else data.PROGRAMME_EMAIL
            client = clients.get(email) or clients.setdefault(email, signed_in_client(app, email))
            path = page.path(loaded)
            first = client.get(path)
            if first.status_code != 200:
                raise RuntimeError(f"GET {path} gave HTTP {first.status_code}")
            _forget_rendered_pages()  # count what rendering the page reads, not a stored copy
            with counting(app) as statements:
                client.get(path)
            counts[page.name] = len(statements)
        except Exception as exc:
            counts[page.name] = f"error: {exc.__class__.__name__}: {exc}"
    return counts


def _forget_rendered_pages() -> None:
    """Empty the per-worker rendered-page cache (app/web/page_cache.py), where there is one;
    the figures a page keeps (app/queries/freshness.py) stay warm."""
    try:
        from app.web import page_cache
    except ImportError:
        return
    page_cache.clear()


@dataclass(frozen=True)
class SweepCount:
    reads: int  # SELECTs: must not grow with the data
    writes: int  # INSERTs into the outbox, in batches: grow with the mail enqueued
    mails: int

    def __str__(self) -> str:
        return f"{self.reads} reads + {self.writes} writes for {self.mails:,} mails"


def sweep_queries(app: Flask, now: datetime) -> SweepCount | str:
    """Statements one reminder sweep runs (rolled back afterwards: nothing is kept)."""
    from app.extensions import db

    try:
        from app.operations.sweep import run_sweep
    except ImportError as exc:
        return f"not available yet: {exc}"
    with app.app_context():
        try:
            with counting(app) as statements:
                summary = run_sweep(now)
            reads = sum(1 for s in statements if s.lstrip().upper().startswith(READS))
            mails = sum(summary.enqueued.values()) if hasattr(summary, "enqueued") else 0
            return SweepCount(reads, len(statements) - reads, mails)
        except Exception as exc:
            return f"error: {exc.__class__.__name__}: {exc}"
        finally:
            db.session.rollback()


def add_rows(
    report: Report,
    small: dict[str, int | str],
    large: dict[str, int | str],
    labels: tuple[str, str],
) -> None:
    """One decisive row per page (≤ MAX_QUERIES and equal at both sizes) and one for the sweep
    (its reads equal at both sizes; its writes are batched INSERTs, so they follow the mail)."""
    for name, small_count in small.items():
        large_count = large.get(name, "not measured")
        is_sweep = name == "sweep"
        what = "`flask reminders sweep`: SQL queries" if is_sweep else f"SQL queries: {name}"
        target = (
            "constant reads (writes: batched INSERTs)"
            if is_sweep
            else f"≤ {MAX_QUERIES}, same at both sizes"
        )
        problem = next((c for c in (small_count, large_count) if isinstance(c, str)), None)
        if problem is not None:
            kind = "not available yet: " if problem.startswith("not available") else ""
            row = not_available(what, target, problem.split(": ", 1)[1]) if kind else None
            report.add(row or errored(what, target, RuntimeError(problem)))
            continue
        if is_sweep:
            holds = small_count.reads == large_count.reads
        else:
            holds = small_count == large_count and large_count <= MAX_QUERIES
        median = f"{small_count} ({labels[0]}) / {large_count} ({labels[1]})"
        report.add(
            Row(what, target, runs=1, median=median, result=OK if holds else MISSED, decisive=True)
        )
