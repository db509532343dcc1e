"""Helpers shared by the browser tests: how the app shows dates, definition-list details,
flash messages, and a tab for forms that answer 4xx on purpose."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def london_today():
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()


def shown(day) -> str:
    """A date as the app shows it: '25 Nov 2026'."""
    return f"{day.day} {day:%b %Y}"


def detail(region, term: str):
    """The <dd> after the <dt> `term` in a definition list."""
    term_cell = region.locator("dt", has_text=re.compile(f"^{re.escape(term)}$"))
    return term_cell.locator("xpath=following-sibling::dd[1]")


def flash(page, text: str):
    """The flash message (role=status) containing `text`."""
    return page.get_by_role("status").filter(has_text=text)


EXPECTED_4XX = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


@contextmanager
def error_response_page(page):
    """A second tab in the page's context (same session) for a form that answers with a 4xx
    status on purpose: the `page` fixture fails on any console error, and Chromium logs the
    document's 4xx as one. Other console errors (e.g. CSP) still fail the test."""
    other = page.context.new_page()
    errors: list[str] = []
    other.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    other.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield other
    finally:
        other.close()
    unexpected = [e for e in errors if not EXPECTED_4XX.match(e)]
    assert not unexpected, "Browser console errors:\n" + "\n".join(unexpected)
