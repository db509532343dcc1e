"""Everything the case page shows, loaded in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    ActionPlan,
    Area,
    Case,
    CaseEvent,
    OutboxMessage,
    RosterEntry,
    Snapshot,
    User,
)
from app.rules.calendar import london_date
from app.rules.cases import allowed_transitions
from app.rules.pause import is_paused
from app.rules.vocabulary import (
    CONTACT_EVENT_KINDS,
    FLAG_WORDS,
    REASON_WORDS,
    STATUS_WORDS,
    CaseStatus,
    EventKind,
    OutboxStatus,
    SnapshotKind,
)

# Timeline filters: query-string value -> (label, event kinds; None = all).
E = EventKind
EVENT_GROUPS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "all": ("All", None),
    "status": (
        "Status & flags",
        (
            E.OPENED,
            E.ASSIGNED,
            E.STATUS_CHANGED,
            E.RETURNED,
            E.RESOLVED,
            E.ESCALATED,
            E.FLAG_CHANGED,
            E.CLOSED,
            E.REMINDERS_PAUSED,
            E.REMINDERS_RESUMED,
        ),
    ),
    "plan": (
        "Plan & actions",
        (
            E.PLAN_UPDATED,
            E.ACTION_ADDED,
            E.ACTION_UPDATED,
            E.ACTION_DONE,
            E.ACTION_DROPPED,
            E.ACTION_REOPENED,
        ),
    ),
    "partnership": (
        "From the partnership",
        (
            E.ANSWER_RECEIVED,
            E.ANSWER_ACCEPTED,
            E.ANSWER_DECLINED,
            E.ANSWER_SUPERSEDED,
            E.UPDATE_REQUESTED,
        ),
    ),
    "contacts": ("Contacts", (E.CONTACT, *CONTACT_EVENT_KINDS)),
    "notes": ("Notes", (E.NOTE,)),
    # The case's mail itself (the outbox), not its events: see `case_mail`.
    "emails": ("Emails", ()),
    "membership": ("Membership", (E.MEMBERSHIP_UPDATED, E.EVALUATED)),
}
TIMELINE_LIMIT = 500
MAIL_LIMIT = 500
EMAILS_GROUP = "emails"


@dataclass(frozen=True)
class TrendRow:
    year: int
    members: int
    residents: int
    flag: str | None
    words: str


@dataclass(frozen=True)
class RosterRow:
    person_id: str
    name: str
    resident: bool
    role: str


# Of the events one snapshot caused, the one that names the entry (most telling first).
_ENTRY_KINDS = (
    EventKind.MEMBERSHIP_UPDATED,
    EventKind.RESOLVED,
    EventKind.ESCALATED,
    EventKind.RETURNED,
    EventKind.OPENED,
    EventKind.FLAG_CHANGED,
    EventKind.EVALUATED,
)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the timeline: an event, or the events one membership snapshot caused."""

    kind: str
    created_at: datetime
    actor: User | None
    message: str
    events: tuple[CaseEvent, ...]


def timeline_entries(events: list[CaseEvent]) -> list[TimelineEntry]:
    """Group the events (newest first) of one snapshot into one entry: a membership update
    reads as one line, not as the update plus the rules' evaluation, return and resolve."""
    entries: list[TimelineEntry] = []
    # One update's events share its snapshot and its moment (a second update on the same day
    # replaces the day's snapshot, so the snapshot alone does not tell two updates apart).
    groups: dict[tuple[int, datetime], list[CaseEvent]] = {}
    order: list[list[CaseEvent]] = []
    for event in events:
        snapshot_id = (event.data or {}).get("snapshot_id")
        if snapshot_id is not None and event.kind in _ENTRY_KINDS:
            key = (snapshot_id, event.created_at)
            if key not in groups:
                groups[key] = []
                order.append(groups[key])
            groups[key].append(event)
        else:
            order.append([event])
    for group in order:
        lead = min(
            group, key=lambda e: _ENTRY_KINDS.index(e.kind) if e.kind in _ENTRY_KINDS else 99
        )
        if lead.kind == EventKind.MEMBERSHIP_UPDATED or len(group) == 1:
            message = lead.message
        else:  # oldest first, as they happened
            message = " ".join(e.message for e in reversed(group))
        entries.append(TimelineEntry(lead.kind, lead.created_at, lead.actor, message, tuple(group)))
    return entries


@dataclass(frozen=True)
class MailRow:
    """One email of the case on the Emails tab: what, to whom, its status and its moment."""

    id: int
    kind: str
    recipient: str
    subject: str
    status: str
    at: datetime  # queued: when it will go; sent: when sent; cancelled: when; failed: last try
    reason: str | None  # cancelled: why; failed (or retrying): the last error
    due: bool = False  # queued and its time has come (waiting for the sender)


def _mail_moment():
    """The moment an email is listed by: sent, cancelled, or when it is (was) due to go."""
    return func.coalesce(
        OutboxMessage.sent_at,
        OutboxMessage.cancelled_at,
        OutboxMessage.next_attempt_at,
        OutboxMessage.not_before,
    )


def case_mail(case_id: int, now: datetime) -> list[MailRow]:
    """The case's mail, newest first: queued, being sent, sent, failed, cancelled (one query;
    the bodies are not read)."""
    moment = _mail_moment().label("moment")
    rows = db.session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.status,
            moment,
            OutboxMessage.cancelled_reason,
            OutboxMessage.last_error,
        )
        .where(OutboxMessage.case_id == case_id)
        .order_by(moment.desc(), OutboxMessage.id.desc())
        .limit(MAIL_LIMIT)
    )
    return [
        MailRow(
            id,
            kind,
            recipient,
            subject,
            status,
            at,
            cancelled if status == OutboxStatus.CANCELLED else error,
            due=status == OutboxStatus.QUEUED and at <= now,
        )
        for id, kind, recipient, subject, status, at, cancelled, error in rows
    ]


@dataclass(frozen=True)
class CasePage:
    case: Case
    plan: ActionPlan | None
    flag_words: str
    reasons: tuple[str, ...]
    status_words: str
    events: list[CaseEvent]
    group: str
    trend: list[TrendRow]
    roster: list[RosterRow]
    roster_on: date | None
    transitions: tuple[str, ...]
    later_case_id: int | None
    today: date
    last_contact: CaseEvent | None  # the latest contact by its date (then by when recorded)
    contact_names: tuple[str, ...]  # the area's contacts, to suggest for "with whom"
    paused: bool  # the partnership's reminders are paused now
    mail: list[MailRow]  # the Emails tab: the case's mail, newest first (other tabs: empty)

    @property
    def entries(self) -> list[TimelineEntry]:
        return timeline_entries(self.events)

    @property
    def open_actions(self):
        return [a for a in (self.plan.actions if self.plan else []) if a.status == "open"]

    @property
    def closed_actions(self):
        return [a for a in (self.plan.actions if self.plan else []) if a.status != "open"]


def load_case(case_id: int) -> Case | None:
    """The case with its area, rep, plan and actions (fresh from the database)."""
    return db.session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .options(
            joinedload(Case.area).selectinload(Area.contacts),
            joinedload(Case.rep),
            selectinload(Case.plan).selectinload(ActionPlan.actions),
        )
        .execution_options(populate_existing=True)
    )


def case_page(case_id: int, user: User, now: datetime, group: str = "all") -> CasePage:
    """Load the case page for a case `user` may see (the caller checks access)."""
    case = load_case(case_id)
    assert case is not None
    group = group if group in EVENT_GROUPS else "all"
    return CasePage(
        case=case,
        plan=case.plan,
        flag_words=FLAG_WORDS.get(case.flag, case.flag),
        reasons=tuple(REASON_WORDS.get(r, r) for r in case.area.current_reasons or ()),
        status_words=STATUS_WORDS[case.status],
        events=timeline(case.id, group) if group != EMAILS_GROUP else [],
        group=group,
        trend=member_trend(case.area_id),
        roster=(roster := current_roster(case.area_id))[1],
        roster_on=roster[0],
        # Closing has its own page; a case becomes contacted by recording a contact.
        transitions=tuple(
            t
            for t in allowed_transitions(case.status, user.role)
            if t not in (CaseStatus.CLOSED, CaseStatus.CONTACTED)
        ),
        later_case_id=db.session.scalar(
            select(Case.id).where(Case.previous_case_id == case.id).order_by(Case.id).limit(1)
        ),
        today=london_date(now),
        last_contact=last_contact(case.id),
        contact_names=tuple(c.name for c in case.area.contacts),
        paused=case.is_open and is_paused(case.reminders_paused_until, now),
        mail=case_mail(case.id, now) if group == EMAILS_GROUP else [],
    )


def last_contact(case_id: int) -> CaseEvent | None:
    """The case's latest recorded contact, by the contact's own date (one query)."""
    contacts = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == EventKind.CONTACT)
    ).all()
    if not contacts:
        return None
    return max(contacts, key=lambda e: (str(e.data.get("on", "")), e.created_at, e.id))


def timeline(case_id: int, group: str = "all") -> list[CaseEvent]:
    """The case's events, newest first, with their actors (one query)."""
    kinds = EVENT_GROUPS.get(group, EVENT_GROUPS["all"])[1]
    query = (
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id)
        .options(joinedload(CaseEvent.actor))
        .order_by(CaseEvent.created_at.desc(), CaseEvent.id.desc())
        .limit(TIMELINE_LIMIT)
    )
    if kinds is not None:
        query = query.where(CaseEvent.kind.in_(kinds))
    return list(db.session.scalars(query))


def member_trend(area_id: int) -> list[TrendRow]:
    """The area's annual reviews: year -> members, residents, evaluation."""
    rows = db.session.execute(
        select(
            Snapshot.review_year,
            Snapshot.members,
            Snapshot.residents,
            Snapshot.flag,
        )
        .where(Snapshot.area_id == area_id, Snapshot.kind == SnapshotKind.ANNUAL)
        .order_by(Snapshot.review_year)
    )
    return [
        TrendRow(year, members, residents, flag, FLAG_WORDS.get(flag or "", "Within criteria"))
        for year, members, residents, flag in rows
        if year is not None  # annual snapshots always have a review year
    ]


def current_roster(area_id: int) -> tuple[date | None, list[RosterRow]]:
    """The roster of the area's latest snapshot (an update wins a tie), and its date."""
    latest = (
        select(Snapshot.id)
        .where(Snapshot.area_id == area_id)
        .order_by(
            Snapshot.effective_on.desc(),
            (Snapshot.kind == SnapshotKind.UPDATE).desc(),
            Snapshot.id.desc(),
        )
        .limit(1)
        .scalar_subquery()
    )
    entries = db.session.scalars(
        select(RosterEntry)
        .where(RosterEntry.snapshot_id == latest)
        .options(joinedload(RosterEntry.person), joinedload(RosterEntry.snapshot))
        .order_by(RosterEntry.id)
    ).all()
    if not entries:
        return None, []
    rows = [RosterRow(e.person.person_id, e.name, e.resident, e.role) for e in entries]
    return entries[0].snapshot.effective_on, rows
