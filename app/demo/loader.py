"""Load the deterministic demo programme (docs/insights.md) into the database, through the same
operations an import uses, and give the open cases some realistic casework."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from app.demo.generator import DemoProgramme, generate
from app.extensions import db
from app.models import Action, ActionPlan, Area, Case, Contact, User
from app.operations.assignment import set_area_rep
from app.operations.case_actions import add_note, change_status
from app.operations.snapshots import EntryInput, SnapshotInput, store_snapshots
from app.operations.users import hash_password
from app.rules.vocabulary import OPEN_STATUSES, UNCOUNTED_ROLES, CaseStatus, SnapshotKind, UserRole

DEMO_PASSWORD = "big-local-demo"
ADMIN_EMAIL = "programme.admin@demo.localtrust.org.uk"
PROGRAMME_EMAIL = "programme.team@demo.localtrust.org.uk"


@dataclass
class DemoLogins:
    admin: str
    programme: str
    rep: str
    password: str
    reps: int
    areas: int
    snapshots: int
    cases: int


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Area))


# The demo's latest annual review is the most recent 30 September at least this long ago, so
# that its casework and recent updates fit between that review and today.
REVIEW_TO_TODAY_DAYS = 45


def latest_review_year(now: datetime) -> int:
    """The review year whose 30 September review comes shortly before `now`."""
    today = now.date()
    year = today.year
    if today < date(year, 9, 30) + timedelta(days=REVIEW_TO_TODAY_DAYS):
        year -= 1
    return year


def load_demo(*, now: datetime, seed: int = 2021, progress=None) -> DemoLogins:
    """Build the demo programme in the current transaction (the caller commits)."""
    programme = generate(seed, latest_review_year(now))
    password_hash = hash_password(DEMO_PASSWORD)
    users = _users(programme, password_hash, now)
    _areas(programme, users, now)
    _snapshots(programme, progress)
    _recent_updates(programme, now, random.Random(seed), latest_review_year(now))
    casework_rep = _casework(now, random.Random(seed))
    db.session.flush()
    return DemoLogins(
        admin=ADMIN_EMAIL,
        programme=PROGRAMME_EMAIL,
        rep=casework_rep,
        password=DEMO_PASSWORD,
        reps=len(programme.reps),
        areas=len(programme.areas),
        snapshots=len(programme.snapshots),
        cases=db.session.scalar(select(func.count()).select_from(Case)) or 0,
    )


def _users(programme: DemoProgramme, password_hash: str, now: datetime) -> dict[str, User]:
    users: dict[str, User] = {}
    staff: list[tuple[str, str, str, bool, str | None]] = [
        (ADMIN_EMAIL, "Priya Shah", "programme", True, None),
        (PROGRAMME_EMAIL, "Tom Okafor", "programme", False, None),
    ]
    staff += [(r.email, r.name, "rep", False, r.region) for r in programme.reps]
    for email, name, role, admin, region in staff:
        user = User(
            email=email,
            name=name,
            role=role,
            is_admin=admin,
            region=region,
            password_hash=password_hash,
            created_at=now,
        )
        db.session.add(user)
        users[email] = user
    db.session.flush()
    return users


def _areas(programme: DemoProgramme, users: dict[str, User], now: datetime) -> None:
    for demo in programme.areas:
        area = Area(
            code=demo.code,
            name=demo.name,
            rep=users.get(demo.rep_email) if demo.rep_email else None,
            created_at=now,
            current_reasons=[],
        )
        area.contacts = [Contact(name=c.name, email=c.email) for c in demo.contacts]
        db.session.add(area)
    db.session.flush()


def _snapshots(programme: DemoProgramme, progress) -> None:
    """Store the reviews and updates one effective date at a time, as the yearly files
    would have arrived, so each case's timeline carries the dates it happened."""
    by_date: dict[date, list[SnapshotInput]] = defaultdict(list)
    for snap in programme.snapshots:
        by_date[snap.effective].append(
            SnapshotInput(
                area_code=snap.area_code,
                kind=snap.kind,
                review_year=snap.year,
                effective_on=snap.effective,
                entries=tuple(
                    EntryInput(m.person_id, m.name, m.resident, m.role) for m in snap.members
                ),
            )
        )
    for effective in sorted(by_date):
        moment = datetime.combine(effective, time(10), tzinfo=UTC)
        store_snapshots(by_date[effective], now=moment, source="demo")
        if progress:
            progress(len(by_date[effective]))


# Recent in-year updates (days ago, which area, its new shape): new cases, one return within
# criteria, so the dashboard's last-30/90-day figures have something to show. They touch only
# areas within criteria after 2021, so the 2021 cases and the annual figures are unchanged.
RECENT = (
    (80, 0, "under"),
    (80, 1, "under"),
    (40, 2, "under"),
    (40, 3, "not_resident_led"),
    (12, 4, "threshold"),
    (15, 0, "threshold"),
    (5, 5, "under"),
)


def _recent_updates(
    programme: DemoProgramme, now: datetime, rng: random.Random, review_year: int
) -> None:
    # The updates' days ago are scaled to fall after the latest review (a snapshot dated
    # before an area's latest one changes no case).
    since_review = (now.date() - date(review_year, 9, 30)).days
    scale = min(1.0, (since_review - 1) / max(days for days, _w, _s in RECENT))
    last: dict[str, tuple] = {}
    for snap in programme.snapshots:
        last[snap.area_code] = snap.members
    fine = sorted(
        db.session.scalars(
            select(Area.code).where(Area.current_flag.is_(None), Area.rep_id.is_not(None))
        )
    )
    chosen = rng.sample(fine, 6)
    for days_ago, which, shape in sorted(RECENT, key=lambda r: -r[0]):
        code = chosen[which]
        counted = [m for m in last[code] if m.role not in UNCOUNTED_ROLES]
        residents = [m for m in counted if m.resident]
        others = [m for m in counted if not m.resident]
        if shape == "under":
            roster = residents[:4] + others[:2]
        elif shape == "threshold":
            roster = residents[:5] + others[:3]
            roster += residents[5 : 5 + 8 - len(roster)]
        else:  # enough members, too few residents
            roster = residents[:3] + others[:6]
        moment = now - timedelta(days=max(1, round(days_ago * scale)))
        update = SnapshotInput(
            area_code=code,
            kind=SnapshotKind.UPDATE,
            review_year=None,
            effective_on=moment.date(),
            entries=tuple(EntryInput(m.person_id, m.name, m.resident, m.role) for m in roster),
        )
        store_snapshots([update], now=moment, source="demo")


DEMO_ACTIONS = (
    ("partnership", "Hold a recruitment drop-in at the community centre", -9),
    ("rep", "Introduce the partnership to an expert partner on resident engagement", 5),
    ("partnership", "Ask each member to bring one resident to the next meeting", 12),
    ("programme", "Book places at the spring learning event", 30),
    ("partnership", "Update the roster and send it to the rep", 40),
)


# The demo rep's cases, in order: a new one first (not yet contacted), then one in each status.
DEMO_REP_STAGES = (0, 1, 2, 4, 3)


def _demo_rep_caseload(now: datetime) -> User | None:
    """The rep with the most open cases, given areas (through the real operation) from reps
    with more than one until they have five, so the walkthrough shows every open status."""
    rows = db.session.execute(
        select(Case.rep_id, func.count())
        .where(Case.status.in_(OPEN_STATUSES), Case.rep_id.is_not(None))
        .group_by(Case.rep_id)
    ).all()
    counts = {rep_id: n for rep_id, n in rows if rep_id is not None}
    if not counts:
        return None
    rep_id = max(counts, key=lambda r: (counts[r], -r))
    rep = db.session.get(User, rep_id)
    donors = sorted((r for r in counts if r != rep_id and counts[r] > 1), key=lambda r: r)
    for donor in donors:
        if counts[rep_id] >= len(DEMO_REP_STAGES):
            break
        case = db.session.scalar(
            select(Case)
            .where(Case.rep_id == donor, Case.status.in_(OPEN_STATUSES))
            .order_by(Case.id)
            .limit(1)
        )
        assert case is not None and rep is not None  # the donor has an open case
        set_area_rep(case.area, rep, actor=None, now=now)
        counts[rep_id] += 1
    return rep


def _casework(now: datetime, rng: random.Random) -> str:
    """Give the open cases recent, believable casework; return the demo rep's email (the rep
    with the most open cases, given one in each open status)."""
    demo_rep = _demo_rep_caseload(now)
    cases = list(
        db.session.scalars(select(Case).where(Case.status.in_(OPEN_STATUSES)).order_by(Case.id))
    )
    today = now.date()
    demo_stages = iter(DEMO_REP_STAGES)
    for index, case in enumerate(cases):
        stage = index % 5  # 0 new (and stale), 1 contacted, 2-3 plan agreed, 4 monitoring
        started = now - timedelta(days=rng.randint(20, 70))
        opened = datetime.combine(case.opened_on, time(10), tzinfo=UTC)
        if opened > now - timedelta(days=20):
            stage = 0  # too recent for casework: still new
        elif demo_rep is not None and case.rep_id == demo_rep.id:
            stage = next(demo_stages, stage)
        started = max(started, opened + timedelta(days=2))
        if stage == 0:
            if opened < now - timedelta(days=60):
                case.last_activity_at = now - timedelta(days=rng.randint(30, 60))
            continue
        _status(
            case, CaseStatus.CONTACTED, started, "Spoke with the chair about the review result."
        )
        if stage == 1:
            continue
        plan = ActionPlan(
            case=case,
            barriers=rng.sample(
                ["recruitment", "resident_engagement", "capacity", "governance"], 2
            ),
            barriers_text="Few residents have time for evening meetings.",
            target_members=max(9, (case.area.current_members or 6) + 3),
            target_on=today + timedelta(days=rng.randint(60, 150)),
            support=["expert_partner", "learning_events", "networking"][: rng.randint(1, 3)],
            updated_at=started + timedelta(days=7),
        )
        db.session.add(plan)
        for owner, description, due in rng.sample(DEMO_ACTIONS, 3):
            plan.actions.append(
                Action(
                    description=description,
                    owner=owner,
                    due_on=today + timedelta(days=due + rng.randint(-3, 3)),
                    created_at=started + timedelta(days=7),
                )
            )
        db.session.flush()  # the plan and its actions as the agreeing check reads them
        _status(case, CaseStatus.PLAN_AGREED, started + timedelta(days=7), "Action plan agreed.")
        if stage == 4:
            _status(case, CaseStatus.MONITORING, started + timedelta(days=14), "Plan under way.")
    if demo_rep is not None:
        return demo_rep.email
    rep = db.session.scalar(select(User).where(User.role == UserRole.REP).order_by(User.id))
    return rep.email if rep else ADMIN_EMAIL


def _status(case: Case, target: str, at: datetime, note: str) -> None:
    """The rep moves the case on and notes why: the same operations a rep's page calls (a
    case in the unassigned queue is worked by the programme team)."""
    actor = case.rep if case.rep is not None else _programme_user()
    change_status(case, target, actor, at)
    add_note(case, note, actor, at)


def _programme_user() -> User:
    return db.session.execute(
        select(User).where(User.role == UserRole.PROGRAMME).order_by(User.id).limit(1)
    ).scalar_one()
