"""Small builders for test data, written through the real models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count

from app.extensions import db
from app.models import Area, Contact, Person, RosterEntry, Snapshot, User
from app.operations.casework import apply_snapshots, latest_keys
from app.rules.criteria import evaluate

_seq = count(1)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def make_user(
    role: str = "rep",
    *,
    email: str | None = None,
    admin: bool = False,
    password: str | None = None,
    region: str | None = None,
    name: str | None = None,
) -> User:
    from app.operations.users import hash_password

    n = next(_seq)
    user = User(
        email=email or f"{role}{n}@example.org",
        name=name or f"{role.title()} {n}",
        role=role,
        is_admin=admin,
        region=region,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_area(code: str | None = None, *, rep: User | None = None, contacts: int = 1) -> Area:
    n = next(_seq)
    area = Area(code=code or f"T{n:04d}", name=f"Test Area {n}", rep=rep, current_reasons=[])
    for i in range(contacts):
        area.contacts.append(Contact(name=f"Contact {n}.{i}", email=f"contact{n}.{i}@example.org"))
    db.session.add(area)
    db.session.flush()
    return area


def add_snapshot(
    area: Area,
    members: int,
    residents: int,
    *,
    year: int | None = None,
    on: date | None = None,
    now: datetime = NOW,
    actor_id: int | None = None,
    extra_workers: int = 0,
) -> Snapshot:
    """Store a snapshot with `members` counted members (`residents` of them residents) and run
    the case rules for it, as an import would."""
    if year is not None:
        kind, effective = "annual", on or date(year, 9, 30)
    else:
        kind, effective = "update", on or now.date()
    before = latest_keys([area.id]).get(area.id)
    roster = [(i < residents, "chair" if i == 0 else "member") for i in range(members)]
    roster += [(False, "worker")] * extra_workers
    ev = evaluate(roster)
    snap = Snapshot(
        area=area,
        kind=kind,
        review_year=year,
        effective_on=effective,
        members=ev.members,
        residents=ev.residents,
        flag=ev.flag,
        reasons=list(ev.reasons),
    )
    db.session.add(snap)
    for i, (resident, role) in enumerate(roster):
        person = Person(person_id=f"{area.code}-{kind}-{effective}-{i}", name=f"Person {i}")
        snap.entries.append(
            RosterEntry(person=person, name=person.name, resident=resident, role=role)
        )
    db.session.flush()
    apply_snapshots(area, [snap], latest_before=before, now=now, actor_id=actor_id)
    db.session.flush()
    return snap


def agreeable_plan(case, actor: User, now: datetime) -> None:
    """Give the case a plan that can be agreed: a barrier, a target of 9 members two months
    ahead, one open action (through the real operations)."""
    from datetime import timedelta

    from app.operations import case_actions as ops

    today = now.date()
    ops.save_plan(
        case,
        barriers=["recruitment"],
        barriers_text="",
        target_members=9,
        target_on=today + timedelta(days=60),
        support=[],
        actor=actor,
        now=now,
    )
    ops.add_action(
        case,
        description="Invite two residents",
        owner="partnership",
        due_on=today + timedelta(days=14),
        actor=actor,
        now=now,
    )


def code_for(user: User, moment: datetime) -> str:
    """The code an authenticator app with `user`'s secret shows at `moment`."""
    import pyotp

    return pyotp.TOTP(user.totp_secret).at(moment)


def enable_two_factor(user: User, now: datetime = NOW) -> list[str]:
    """Turn two-factor sign-in on for `user` as the set-up page does; returns recovery codes."""
    from app.operations.two_factor import begin_set_up, finish_set_up

    begin_set_up(user)
    codes = finish_set_up(user, code_for(user, now), now=now)
    db.session.commit()
    return codes
