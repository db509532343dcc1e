"""Browser tests: a live server over the test database, driven by headless Chromium.

Every test in this folder is marked `browser` (`pytest -m "not browser"` leaves them out).
Data a test creates must be committed before the browser asks for it: the server answers
from its own database sessions. Without Chromium or Playwright the tests are skipped on a
developer's machine and fail in CI."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from tests.conftest import _config_for, require_service

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
BLOCKING_IMPACTS = ("serious", "critical")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


def chromium_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


class LiveServer:
    """The app served by werkzeug in a thread on 127.0.0.1 and a free port."""

    def __init__(self, app) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(migrated):
    app = create_app(_config_for(migrated, BASE_URL="http://127.0.0.1"))
    server = LiveServer(app).start()
    app.config["BASE_URL"] = server.url
    yield server
    server.stop()


@pytest.fixture
def live_app(app, live_server):
    """The test's app context (for factories and db.session) plus a running server.

    The `app` fixture empties the tables after the test, sign-in counts (a table) included,
    so each test starts with fresh limits too."""
    return app


@pytest.fixture(scope="session")
def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        require_service(False, "Playwright")
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def browser(_playwright):
    executable = chromium_path()
    require_service(executable is not None, "Chromium")
    try:
        browser = _playwright.chromium.launch(executable_path=executable, headless=True)
    except Exception as exc:  # pragma: no cover - depends on the machine
        require_service(False, f"Chromium ({exc.__class__.__name__}: {exc})")
    yield browser
    browser.close()


@pytest.fixture
def page(browser, live_app, live_server):
    """A fresh browser context (no cookies) at the live server. Fails the test on any console
    error, such as a Content-Security-Policy violation."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    if errors:
        pytest.fail("Browser console errors:\n" + "\n".join(errors))


def sign_in(page, email: str, password: str, *, remember: bool = False) -> None:
    """Sign in through the real form."""
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    if remember:
        page.get_by_label("Keep me signed in").check()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG under test-output/screenshots/ at the repository root."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_accessibility(page) -> None:
    """Run axe on the page; fail on serious or critical violations, listing each one."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if violations:
        lines = []
        for v in violations:
            targets = ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:5])
            lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({targets})")
        pytest.fail(f"Accessibility violations on {page.url}:\n" + "\n".join(lines))
