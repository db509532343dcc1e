"""Page latency and throughput through a real WSGI server: gunicorn with 2 workers, signed in
through the real sign-in form, measured with the standard library's HTTP client."""

from __future__ import annotations

import http.client
import re
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench import data
from bench.env import ROOT, Database, executable, free_port
from bench.queries import csrf_token

HELLO = "/bench/hello"
THREADS = 4


@contextmanager
def gunicorn(db: Database, workers: int = 2):
    """Serve bench.wsgi:app on a free port; yields the port."""
    port = free_port()
    argv = [
        executable("gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "bench.wsgi:app",
    ]
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
    """One browser: a cookie jar and a fresh connection per request (gunicorn's sync workers
    close the connection after each response anyway)."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
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
            return response.status, text
        finally:
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
    rps: float


def measure(client: Client, path: str, sequential: int, concurrent: int) -> Timing:
    """p50/p95 of `sequential` one-at-a-time requests, then requests per second with
    THREADS clients sharing `concurrent` requests."""

    def one(_: int = 0) -> float:
        started = time.perf_counter()
        status, _body = client.get(path)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"GET {path} gave HTTP {status}")
        return elapsed

    for _ in range(3):
        one()  # warm both workers
    latencies = sorted(one() for _ in range(sequential))
    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(concurrent)))
    rps = concurrent / (time.perf_counter() - started)
    return Timing(
        p50=statistics.median(latencies),
        p95=statistics.quantiles(latencies, n=20, method="inclusive")[18],
        rps=rps,
    )
