"""Load a benchmark programme: the CSV files through the real `flask` commands, then action
plans, actions and their timeline events by bulk insert (there is no import for those)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import bindparam, func, select, update

from bench import data
from bench.env import Database, flask

CHUNK = 2000


@dataclass
class Loaded:
    """What a loaded programme holds, for the table's footnote and the page choices."""

    areas: int = 0
    roster_rows: int = 0
    open_cases: int = 0
    actions: int = 0
    reps: int = 0
    rep_email: str = ""
    case_id: int = 0
    area_code: str = ""  # the case's area (the area page)


def prepare(programme: data.Programme, db: Database, folder: Path, today: date) -> data.Files:
    """A fresh database with the areas, contacts and reps (with a known password) loaded."""
    folder.mkdir(parents=True, exist_ok=True)
    db.fresh()
    files = data.write_files(programme, folder, today)
    flask(db, "areas", "import", str(files.areas)).check("flask areas import")
    return files


def add_users(app: Flask, now: datetime) -> None:
    """Give every rep the bench password and add a programme-team user."""
    from app.extensions import db
    from app.models import User
    from app.operations.users import create_user, hash_password

    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.role == "rep")
            .values(password_hash=hash_password(data.PASSWORD))
        )
        create_user(
            email=data.PROGRAMME_EMAIL,
            name="Bench Programme",
            role="programme",
            password=data.PASSWORD,
            now=now,
        )
        db.session.commit()


def import_reviews(db: Database, files: data.Files):
    return flask(db, "reviews", "import", str(files.reviews)).check("flask reviews import")


def reset_reviews(app: Flask) -> None:
    """Back to 'areas only' so the first import can be timed again."""
    from app.extensions import db
    from app.models import (
        Action,
        ActionPlan,
        Area,
        Case,
        CaseEvent,
        OutboxMessage,
        Person,
        RosterEntry,
        Snapshot,
    )

    with app.app_context():
        for model in (CaseEvent, OutboxMessage, Action, ActionPlan):
            db.session.execute(model.__table__.delete())
        db.session.execute(update(Case.__table__).values(previous_case_id=None))
        for model in (Case, RosterEntry, Snapshot, Person):
            db.session.execute(model.__table__.delete())
        db.session.execute(
            update(Area.__table__).values(
                current_snapshot_on=None,
                current_members=None,
                current_residents=None,
                current_flag=None,
                current_reasons=[],
            )
        )
        db.session.commit()


def finish(app: Flask, db: Database, files: data.Files, now: datetime, today: date) -> Loaded:
    """Open the extra areas' cases (in-year updates), then add plans, actions and events."""
    if files.update_rows:
        flask(db, "updates", "import", str(files.updates)).check("flask updates import")
    with app.app_context():
        add_plans(now, today)
        # What the scheduler's nightly statistics job does in production: without it the
        # bulk-inserted actions would have no planner statistics.
        from app.operations.maintenance import refresh_statistics

        refresh_statistics()
        return describe()


def add_plans(now: datetime, today: date) -> None:
    from app.extensions import db
    from app.models import Action, ActionPlan, Case, CaseEvent
    from app.rules.vocabulary import OPEN_STATUSES

    case_ids = list(
        db.session.scalars(select(Case.id).where(Case.status.in_(OPEN_STATUSES)).order_by(Case.id))
    )
    plans, statuses = data.plan_rows(case_ids, now, today)
    _insert(ActionPlan, plans)
    plan_ids = dict(db.session.execute(select(ActionPlan.case_id, ActionPlan.id)).all())
    ordered = [plan_ids[c] for c in case_ids]
    _insert(Action, data.action_rows(ordered, now, today))
    events = []
    for case_id, (_status, activity, contacted, agreed) in zip(case_ids, statuses, strict=True):
        if contacted:
            events.append(
                _event(case_id, "status_changed", contacted, {"from": "new", "to": "contacted"})
            )
        if agreed:
            events.append(_event(case_id, "plan_updated", agreed, {}))
        for n in range(data.ACTIONS_PER_CASE):
            events.append(_event(case_id, "action_added", activity - timedelta(hours=n), {}))
    _insert(CaseEvent, events)
    table = Case.__table__
    db.session.execute(
        update(table)
        .where(table.c.id == bindparam("case_id"))
        .values(
            status=bindparam("status"),
            last_activity_at=bindparam("activity"),
            contacted_at=bindparam("contacted"),
            plan_agreed_at=bindparam("agreed"),
        ),
        [
            {"case_id": c, "status": s, "activity": a, "contacted": ct, "agreed": ag}
            for c, (s, a, ct, ag) in zip(case_ids, statuses, strict=True)
        ],
    )
    db.session.commit()


def _event(case_id: int, kind: str, at: datetime, payload: dict) -> dict:
    return {
        "case_id": case_id,
        "kind": kind,
        "actor_id": None,
        "created_at": at,
        "message": f"Bench {kind.replace('_', ' ')}",
        "data": payload,
    }


def _insert(model, rows: list[dict]) -> None:
    from app.extensions import db

    for start in range(0, len(rows), CHUNK):
        db.session.execute(model.__table__.insert(), rows[start : start + CHUNK])


def describe() -> Loaded:
    """Count what is loaded and pick the rep and the case the page measurements use: an open
    case of an extra area (no earlier case, same shape at every size) and its rep."""
    from app.extensions import db
    from app.models import Action, Area, Case, RosterEntry, User
    from app.rules.vocabulary import OPEN_STATUSES

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    open_clause = Case.status.in_(OPEN_STATUSES)
    case = (
        db.session.execute(
            select(Case.id, User.email, Area.code)
            .join(Area, Area.id == Case.area_id)
            .join(User, User.id == Case.rep_id)
            .where(open_clause, Area.code.like("BX%"), Case.status == "plan_agreed")
            .order_by(Case.id)
            .limit(1)
        ).first()
        or db.session.execute(
            select(Case.id, User.email, Area.code)
            .join(Area, Area.id == Case.area_id)
            .join(User, User.id == Case.rep_id)
            .where(open_clause)
            .limit(1)
        ).first()
    )
    return Loaded(
        areas=count(Area),
        roster_rows=count(RosterEntry),
        open_cases=count(Case, open_clause),
        actions=count(Action),
        reps=count(User, User.role == "rep"),
        rep_email=case[1] if case else "",
        case_id=case[0] if case else 0,
        area_code=case[2] if case else "",
    )
