"""A minimal browser over real HTTP (cookies, CSRF tokens, no redirects followed), and
gunicorn started on a free port against a test's database."""

from __future__ import annotations

import copy
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, base: str, jar: CookieJar | None = None) -> None:
        self.base = base
        self.jar = jar or CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        self.token = ""

    def copy(self) -> Browser:
        """Another browser holding a copy of this one's cookies (a stolen cookie)."""
        jar = CookieJar()
        for cookie in self.jar:
            jar.set_cookie(copy.copy(cookie))
        return Browser(self.base, jar)

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                status, html = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, html = error.code, error.read().decode()
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        if match:
            self.token = match.group(1)
        return status, html

    def open_sign_in(self) -> None:
        self.request("/sign-in")

    def sign_in(self, email: str, password: str) -> tuple[int, str]:
        form = {"email": email, "password": password, "csrf_token": self.token}
        return self.request("/sign-in", form)

    def sign_out(self) -> int:
        self.request("/account")
        return self.request("/sign-out", {"csrf_token": self.token})[0]

    def account_email(self) -> str | None:
        status, html = self.request("/account")
        match = re.search(r"<dt[^>]*>Email</dt><dd[^>]*>([^<]+)</dd>", html)
        return match.group(1) if status == 200 and match else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn_server(database_url: str, workers: int = 2) -> Iterator[str]:
    """gunicorn with `workers` workers serving the test configuration on `database_url`."""
    port = _free_port()
    env = {**os.environ, "APP_CONFIG": "config.TestConfig", "TEST_DATABASE_URL": database_url}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{port}", "-t", "120", "app:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(base + "/sign-in", timeout=5).close()
            return
        except OSError:  # not listening yet, or workers still booting
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start within 60 s")
