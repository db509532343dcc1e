"""The last run of each periodic job (the sweep, the sender), written where the job runs.

One upsert per run into `job_runs`, in the job's own transaction (the caller commits); the
health checks (app/queries/health.py) read these rows to tell whether the jobs still run."""

from __future__ import annotations

from datetime import datetime

from app.extensions import db
from app.models import JobRun
from app.operations.rows import table_of
from app.rules.vocabulary import JobName

ERROR_LIMIT = 2000


def record_run(name: JobName, now: datetime, error: str | None = None) -> None:
    """Note that job `name` ran at `now`; with `error`, also that it failed with it.

    A run without an error keeps the previous error (the panels show the last one seen)."""
    dialect = db.session.get_bind().dialect.name
    # Imported here: the PostgreSQL dialect takes ~50 ms to import, at every start otherwise.
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values: dict[str, object] = {"name": str(name), "last_run_at": now}
    if error is not None:
        values |= {"last_error": error[:ERROR_LIMIT], "last_error_at": now}
    statement = insert(table_of(JobRun)).values(values)
    changed = {key: statement.excluded[key] for key in values if key != "name"}
    db.session.execute(statement.on_conflict_do_update(index_elements=["name"], set_=changed))
