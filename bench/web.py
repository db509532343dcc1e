"""Page latency through a real WSGI server: gunicorn (gthread workers, so connections are kept
alive; the app preloaded), signed in through the real sign-in form, measured with the
standard library's HTTP client over one kept-alive connection."""

from __future__ import annotations

import http.client
import re
import statistics
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench import data
from bench.env import ROOT, Database, executable, free_port
from bench.queries import csrf_token

HELLO = "/bench/hello"


def server_argv(port: int, workers: int, preload: bool = True) -> list[str]:
    """gunicorn as the bench runs it: `workers` gthread workers of 2 threads (keep-alive)."""
    argv = [
        executable("gunicorn"),
        "-w",
        str(workers),
        "-k",
        "gthread",
        "--threads",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    return argv + (["--preload"] if preload else []) + ["bench.wsgi:app"]


@contextmanager
def gunicorn(db: Database, workers: int = 2):
    """Serve bench.wsgi:app on a free port; yields the port."""
    port = free_port()
    argv = server_argv(port, workers)
    # Warnings only: nobody reads the pipe while the server runs, and INFO lines would fill it
    # (64 KB) until gunicorn blocks on writing its log.
    env = {**db.env(), "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        _wait_until_up(process, port)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


def _wait_until_up(process: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
            raise RuntimeError(f"gunicorn exited {process.returncode}: {error.strip()[-500:]}")
        try:
            if Client(port).get(HELLO)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer on port {port} within {timeout:.0f} s")


@dataclass
class Client:
    """One browser: a cookie jar and one connection, kept alive between requests when the
    server allows it (`keep_alive`), else a fresh connection per request."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    keep_alive: bool = False
    _conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None or not self.keep_alive:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        try:
            return self._request(method, path, body)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not self.keep_alive:
                raise
            self.close()  # the server closed an idle kept-alive connection: once more
            return self._request(method, path, body)

    def _request(self, method: str, path: str, body: str | None) -> tuple[int, str]:
        conn = self._connection()
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                match = re.match(r"\s*([^=;\s]+)=([^;]*)", header)
                if match:
                    self.cookies[match.group(1)] = match.group(2)
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, text
        finally:
            if not self.keep_alive:
                conn.close()

    def get(self, path: str) -> tuple[int, str]:
        return self.request("GET", path)

    def sign_in(self, email: str) -> Client:
        status, html = self.get("/sign-in")
        if status != 200:
            raise RuntimeError(f"GET /sign-in gave HTTP {status}")
        form = {"email": email, "password": data.PASSWORD, "csrf_token": csrf_token(html)}
        status, _ = self.request("POST", "/sign-in", urlencode(form))
        if status != 302:
            raise RuntimeError(f"signing in as {email} gave HTTP {status}")
        return self


@dataclass
class Timing:
    p50: float
    p95: float


def latency(client: Client, path: str, count: int) -> Timing:
    """p50/p95 of `count` one-at-a-time requests over the client's kept-alive connection."""

    def one() -> float:
        started = time.perf_counter()
        status, _body = client.get(path)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"GET {path} gave HTTP {status}")
        return elapsed

    for _ in range(4):
        one()  # warm both workers
    latencies = sorted(one() for _ in range(count))
    return Timing(
        p50=statistics.median(latencies),
        p95=statistics.quantiles(latencies, n=20, method="inclusive")[18],
    )
