"""Sustained load on one page from a second process: `wrk` (Debian's package) with keep-alive
connections for a fixed time, or, where wrk is not installed, a Python client doing the same
(persistent http.client connections in threads). Either gives p50/p95/p99 and requests/s."""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CONNECTIONS = 4

# wrk's own percentiles (microseconds) and counts, printed as one JSON line when it is done.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"p50": %d, "p95": %d, "p99": %d, "requests": %d, "duration_us": %d, "errors": %d}\\n',
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


@dataclass
class Load:
    p50: float  # seconds
    p95: float
    p99: float
    rps: float
    requests: int
    tool: str


def tool() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def sustained(port: int, path: str, cookies: dict[str, str], seconds: float) -> Load:
    """GET `path` as fast as CONNECTIONS keep-alive connections allow, for `seconds`."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if tool() == "wrk":
        return _wrk(port, path, cookie, seconds)
    return _python(port, path, cookie, seconds)


def _wrk(port: int, path: str, cookie: str, seconds: float) -> Load:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "report.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        argv = [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
        ]
        if cookie:
            argv += ["-H", f"Cookie: {cookie}"]
        argv.append(f"http://127.0.0.1:{port}{path}")
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited {done.returncode}: {done.stderr.strip()[-300:]}")
    line = next((x for x in done.stdout.splitlines() if x.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {done.stdout[-300:]}")
    figures = json.loads(line)
    if figures["errors"]:
        raise RuntimeError(f"GET {path}: {figures['errors']} failed or non-2xx responses")
    return Load(
        p50=figures["p50"] / 1e6,
        p95=figures["p95"] / 1e6,
        p99=figures["p99"] / 1e6,
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        requests=figures["requests"],
        tool="wrk",
    )


def _python(port: int, path: str, cookie: str, seconds: float) -> Load:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    headers = {"Host": f"127.0.0.1:{port}", "Connection": "keep-alive"}
    if cookie:
        headers["Cookie"] = cookie

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        try:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                mine.append(time.perf_counter() - started)
                if response.status != 200:
                    errors.append(f"HTTP {response.status}")
                    return
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
        except OSError as exc:
            errors.append(str(exc))
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"GET {path}: {errors[0]}")
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Load(
        p50=cuts[49],
        p95=cuts[94],
        p99=cuts[98],
        rps=len(latencies) / elapsed,
        requests=len(latencies),
        tool="python",
    )
