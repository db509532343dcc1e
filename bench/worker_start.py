"""The first request of a new gunicorn worker: a worker is killed and the time from then to the
first answer of the page from its replacement is measured, with the app preloaded in the
master (how the bench and the deployment guide run gunicorn) and, for reference, without."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from bench import data
from bench.env import ROOT, free_port
from bench.measure import Bench
from bench.report import errored, judged, seconds
from bench.web import HELLO, Client, _wait_until_up, server_argv

TARGET = 1.0


def measure_worker_start(bench: Bench) -> None:
    for preload in (True, False):
        what = "first request of a new gunicorn worker (signed-in case list), " + (
            "app preloaded" if preload else "app loaded in the worker (no --preload)"
        )
        target = f"< {TARGET:g} s" if preload else "— (for reference)"
        try:
            times = [_one(bench, preload) for _ in range(bench.runs)]
        except Exception as exc:
            bench.report.add(errored(what, target, exc))
            continue
        if preload:
            bench.record("worker start", times)
            row = judged(what, target, times, seconds, lambda v: v < TARGET, bench.judge)
        else:
            row = judged(what, target, times, seconds, lambda v: True, False)
            row.result = "info"
        bench.report.add(row)


def _one(bench: Bench, preload: bool) -> float:
    port = free_port()
    env = {**bench.db.env(), "LOG_LEVEL": "WARNING"}
    argv = server_argv(port, 1, preload)
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        _wait_until_up(process, port)
        client = Client(port).sign_in(data.PROGRAMME_EMAIL)
        client.get(HELLO)
        worker = _only_child(process.pid)
        started = time.perf_counter()
        os.kill(worker, signal.SIGKILL)
        deadline = started + 60
        while time.perf_counter() < deadline:
            try:
                status, _ = client.get("/cases")
                if status == 200:
                    return time.perf_counter() - started
                raise RuntimeError(f"GET /cases gave HTTP {status}")
            except OSError:
                time.sleep(0.005)
        raise RuntimeError("no answer from the new worker within 60 s")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


def _only_child(pid: int) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"gunicorn master {pid} has {len(children)} workers, expected 1")
    return int(children[0])
