"""The bench's surroundings: a fresh database, `flask` subprocesses timed from process start
(with their peak memory), and the app in-process for the steps that need it."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
SECRET_KEY = "bench-secret-key-not-for-production"


def executable(name: str) -> str:
    """The project's venv copy of a tool if there is one, else whatever is on PATH."""
    candidate = BIN / name
    return str(candidate) if candidate.exists() else name


@dataclass
class Run:
    """One finished subprocess: wall seconds from start, peak memory, output."""

    seconds: float
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str

    def check(self, what: str) -> Run:
        if self.returncode != 0:
            tail = (self.stderr or self.stdout).strip().splitlines()[-5:]
            raise RuntimeError(f"{what} exited {self.returncode}: " + " | ".join(tail))
        return self


class Database:
    """The bench database: a SQLite file in a temp dir, or BENCH_DATABASE_URL (PostgreSQL)."""

    def __init__(self, folder: Path, url: str | None = None) -> None:
        self.folder = folder
        self.given_url = url
        self.url = url or f"sqlite:///{folder / 'bench.db'}"

    @property
    def kind(self) -> str:
        return "PostgreSQL" if self.url.startswith("postgresql") else "SQLite"

    def fresh(self) -> None:
        """Empty the database and build the schema with the real migrations."""
        if self.given_url:
            engine = create_engine(self.url)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.folder / 'bench.db'}{suffix}").unlink(missing_ok=True)
        flask(self, "db", "upgrade").check("flask db upgrade")

    def env(self, **extra: str) -> dict[str, str]:
        # PYTHONDONTWRITEBYTECODE (set on some machines) would have every command compile the
        # app from source, which no deployment does: dropped, and compile_app() runs first.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("MAIL_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(
            DATABASE_URL=self.url,
            SECRET_KEY=SECRET_KEY,
            SCHEDULER_ENABLED="0",
            SESSION_COOKIE_SECURE="0",
            FLASK_APP="app",
            PYTHONPATH=str(ROOT),
        )
        env.pop("APP_CONFIG", None)
        env.update(extra)
        return env


def compile_app() -> None:
    """Write the app's bytecode once, as installing or first starting a deployment does, so
    the timed commands measure a start, not a first compile of every module."""
    import compileall

    for folder in ("app", "bench"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)
    compileall.compile_file(str(ROOT / "config.py"), quiet=1)


def flask(db: Database, *args: str, **env: str) -> Run:
    """Run `flask --app app ARGS` from a fresh process; time it and read its peak memory."""
    return run([executable("flask"), "--app", "app", *args], db.env(**env))


def run(argv: list[str], env: dict[str, str]) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err)
        # wait4 gives this child's own resource usage (RUSAGE_CHILDREN would be a maximum
        # over every child the bench has had).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            seconds=seconds,
            max_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
            returncode=process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_app(db: Database) -> Flask:
    """The app in this process, on the bench database."""
    from app import create_app
    from config import Config

    config = type(
        "BenchConfig",
        (Config,),
        {
            "SQLALCHEMY_DATABASE_URI": db.url,
            "SECRET_KEY": SECRET_KEY,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "SCHEDULER_ENABLED": False,
            "MAIL_SERVER": None,
        },
    )
    return create_app(config)


def has_command(app: Flask, *path: str) -> bool:
    """Whether `flask PATH...` exists (e.g. ('reminders', 'sweep'))."""
    group = app.cli
    for name in path:
        commands = getattr(group, "commands", {})
        if name not in commands:
            return False
        group = commands[name]
    return True
