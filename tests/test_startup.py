"""Start-up imports only what a command needs (issue 16): on SQLite the app never imports
SQLAlchemy's PostgreSQL dialect, the QR code library, Alembic, nor the libraries that only
some pages and commands use (charts, spreadsheets, bank holidays, rate limits, the
scheduler), and building it configures no mapper (that happens at the first query that needs
one). Checked in a fresh interpreter, since this test process has imported everything
already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from app import create_app
create_app()
from app.extensions import db
print(json.dumps({
    "postgresql": "sqlalchemy.dialects.postgresql" in sys.modules,
    "qrcode": "qrcode" in sys.modules,
    "alembic": "alembic" in sys.modules,
    "the libraries of a few pages and commands": sorted(
        name for name in ("pygal", "openpyxl", "holidays", "limits", "apscheduler")
        if name in sys.modules
    ),
    "mappers_configured": not db.Model.registry._new_mappers,
}))
"""


def test_building_the_app_on_sqlite_leaves_out_what_no_command_needs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "APP_CONFIG"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
        SECRET_KEY="startup-test-secret-key-not-for-production",
        SCHEDULER_ENABLED="0",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {
        "postgresql": False,
        "qrcode": False,
        "alembic": False,
        "the libraries of a few pages and commands": [],
        "mappers_configured": False,
    }
