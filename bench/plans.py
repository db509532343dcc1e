"""Query plans of every page at the largest size: the statements of a signed-in request are
captured in-process and EXPLAINed on the same database (EXPLAIN QUERY PLAN on SQLite, EXPLAIN
on PostgreSQL). A full scan of a large table (SQLite `SCAN t`, PostgreSQL `Seq Scan on t`) is
named. Pages that cache what they compute over the programme (app/queries/freshness.py) are
shown twice: the usual request (cache warm) and the first one after a change (cache cold)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import event, func, select

from bench import data
from bench.load import Loaded
from bench.queries import IGNORED, PAGES, missing_page, signed_in_client

LARGE_ROWS = 5000
SQLITE_SCAN = re.compile(r"^SCAN (\w+)")
POSTGRES_SCAN = re.compile(r"Seq Scan on (\w+)")


@dataclass
class PagePlan:
    page: str
    cache: str  # "warm", "cold" or "—"
    statements: list[tuple[str, list[str]]] = field(default_factory=list)  # (SQL, plan lines)
    large_scans: set[str] = field(default_factory=set)


def large_tables(app: Flask) -> dict[str, int]:
    from app.extensions import db

    with app.app_context():
        counts = {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
    return {name: n for name, n in counts.items() if n >= LARGE_ROWS}


def page_plans(app: Flask, loaded: Loaded) -> tuple[list[PagePlan], dict[str, int]]:
    from app.queries import freshness

    large = large_tables(app)
    plans: list[PagePlan] = []
    clients: dict[str, object] = {}
    for page in PAGES:
        if missing_page(app, page):
            continue
        email = loaded.rep_email if page.as_rep else data.PROGRAMME_EMAIL
        client = clients.get(email) or clients.setdefault(email, signed_in_client(app, email))
        path = page.path(loaded)
        client.get(path)  # type: ignore[attr-defined]
        warm = _capture(app, client, path)
        freshness.clear()
        cold = _capture(app, client, path)
        caches = len(cold) != len(warm)
        for label, statements in (("warm", warm), ("cold", cold)) if caches else (("—", warm),):
            plans.append(_explain(app, page.name, label, statements, large))
    return plans, large


def _capture(app: Flask, client, path: str) -> list[tuple[str, object]]:
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    caught: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.lstrip().upper().startswith(IGNORED):
            caught.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} gave HTTP {response.status_code}")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return caught


def _explain(app: Flask, name: str, label: str, statements, large: dict[str, int]) -> PagePlan:
    from app.extensions import db

    plan = PagePlan(name, label)
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            postgres = db.engine.dialect.name == "postgresql"
            for sql, params in statements:
                if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue
                cursor = raw.cursor()
                cursor.execute(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql, params)
                rows = cursor.fetchall()
                cursor.close()
                lines = [row[0] for row in rows] if postgres else [row[3] for row in rows]
                plan.large_scans.update(full_scans(sql, lines, postgres) & set(large))
                plan.statements.append((" ".join(sql.split()), lines))
        finally:
            raw.rollback()
            raw.close()
    return plan


def full_scans(sql: str, lines: list[str], postgres: bool) -> set[str]:
    """The tables a statement's plan reads whole. On SQLite, `SCAN t USING [COVERING] INDEX`
    is an ordered walk of an index, which a LIMIT stops after one page, so it is left out when
    the statement has a LIMIT and the plan sorts nothing itself (no `USE TEMP B-TREE FOR ORDER
    BY`); a count or an unlimited walk of the same index is a full scan."""
    if postgres:
        return {m.group(1) for line in lines if (m := POSTGRES_SCAN.search(line.strip()))}
    limited = re.search(r"\bLIMIT\b", sql, re.IGNORECASE) is not None
    sorts = any("USE TEMP B-TREE FOR ORDER BY" in line for line in lines)
    found = set()
    for line in lines:
        match = SQLITE_SCAN.search(line.strip())
        if not match:
            continue
        walk = " USING INDEX " in line or " USING COVERING INDEX " in line
        if walk and limited and not sorts:
            continue
        found.add(match.group(1))
    return found


def markdown(plans: list[PagePlan], large: dict[str, int], kind: str, label: str) -> str:
    """A summary table, then each page's statements and plans in a collapsible block."""
    tables = ", ".join(f"{name} ({n:,})" for name, n in sorted(large.items()))
    out = [
        f"## Query plans at {label}, {kind}",
        "",
        f"Large tables (≥ {LARGE_ROWS:,} rows): {tables}.",
        "",
        "| page | cache | statements | full scans of a large table |",
        "|---|---|---|---|",
    ]
    for plan in plans:
        scans = ", ".join(sorted(plan.large_scans)) or "none"
        out.append(f"| {plan.page} | {plan.cache} | {len(plan.statements)} | {scans} |")
    out.append("")
    for plan in plans:
        out.append(f"<details><summary>{plan.page} ({plan.cache}): plans</summary>")
        out.append("")
        out.append("```")
        for sql, lines in plan.statements:
            out.append(sql[:300] + (" …" if len(sql) > 300 else ""))
            out += [f"    {line}" for line in lines]
        out.append("```")
        out.append("</details>")
        out.append("")
    return "\n".join(out) + "\n"
