"""Reminder rules (docs/reminders.md): a case's facts and a moment → the reminders due, each with
the unique key that lets the outbox refuse a second enqueue.

Pure: no Flask, no database, no clock. The sweep (app/operations/sweep.py) gathers the facts,
calls `due_reminders` / `due_digests`, renders and enqueues what is not yet in the outbox.

Repeating reminders (overdue, check-in, stale) are numbered; when several repeats are due at
once (the system was off) only the latest is returned, so nobody gets a burst of mail."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from app.rules.calendar import london_date, london_moment, next_send_time
from app.rules.pause import is_paused
from app.rules.vocabulary import OPEN_STATUSES, ActionStatus, EventKind, Owner, ReminderKind


@dataclass(frozen=True)
class Settings:
    """Reminder timings (defaults in docs/reminders.md), each configurable."""

    due_soon_days: int = 7  # before the due date
    overdue_after_days: int = 1  # after the due date
    overdue_every_days: int = 7
    overdue_max: int = 3
    checkin_every_days: int = 42  # from the day the case opened
    stale_after_days: int = 28  # without activity
    stale_every_days: int = 14
    # One-off notices (assigned, escalated, returned) older than this are not mailed: a first
    # sweep over old data must not announce years of history.
    notice_window_days: int = 14
    digest_weekday: int = 0  # Monday
    digest_at: time = time(8, 0)  # London
    programme_email: str | None = None


@dataclass(frozen=True)
class ContactFacts:
    id: int
    name: str
    email: str
    opted_out: bool = False
    bouncing: bool = False  # the mail server refused the address for good

    @property
    def reachable(self) -> bool:
        return bool(self.email) and not self.opted_out and not self.bouncing


@dataclass(frozen=True)
class ActionFacts:
    id: int
    description: str
    owner: str  # rep | partnership | programme
    due_on: date | None
    status: str = ActionStatus.OPEN


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about one case."""

    case_id: int
    area_code: str
    area_name: str
    status: str
    flag: str
    opened_on: date
    last_activity_at: datetime
    created_at: datetime | None = None
    rep_id: int | None = None
    rep_name: str | None = None
    rep_email: str | None = None
    assigned_at: datetime | None = None  # when the current rep was assigned
    assignment_listed: bool = False  # the rep was told in a list of new cases (bulk, handover)
    escalated_count: int = 0
    escalated_at: datetime | None = None  # when the latest escalation was recorded
    returned_on: date | None = None
    returned_at: datetime | None = None  # when the return was recorded
    actions: tuple[ActionFacts, ...] = ()
    contacts: tuple[ContactFacts, ...] = ()
    support: tuple[str, ...] = ()  # the support on offer, in words (empty: the general offer)
    members: int | None = None  # the area's counted members now (None: not known)
    residents: int | None = None
    reminders_paused_until: date | None = None  # partnership reminders held back until then

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class CaseNews:
    """A case event for the programme digest: opened, escalated or returned."""

    case_id: int
    area_code: str
    area_name: str
    kind: str  # opened | escalated | returned
    at: datetime
    rep_name: str | None = None


@dataclass(frozen=True)
class Reminder:
    """One email to enqueue: its key, who gets it, from when, and what the template needs."""

    key: str
    kind: str
    audience: str  # partnership | rep | programme
    recipient: str
    recipient_name: str
    not_before: datetime
    case_id: int | None = None
    contact_id: int | None = None
    reply_to: str | None = None
    case: CaseFacts | None = field(default=None, repr=False)
    action: ActionFacts | None = None
    contact: ContactFacts | None = None
    repeat: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class AssignedCase:
    """A case in a rep's list of newly assigned cases."""

    case_id: int
    area_code: str
    area_name: str
    flag: str
    opened_on: date


def new_cases_notice(
    rep_id: int,
    rep_name: str,
    rep_email: str | None,
    cases: Sequence[AssignedCase],
    now: datetime,
    batch: str,
    *,
    areas: Sequence[tuple[str, str]] = (),
    handed_over_by: str | None = None,
) -> Reminder | None:
    """One mail to a rep listing the cases (and areas) a bulk change or a handover gave them;
    `batch` makes the key unique (e.g. the first and last event ids). None: nothing to say."""
    if not rep_email or not (cases or areas):
        return None
    return Reminder(
        key=f"new_cases:{rep_id}:{batch}",
        kind=ReminderKind.NEW_CASES,
        audience=Owner.REP,
        recipient=rep_email,
        recipient_name=rep_name,
        not_before=now,
        data={
            "cases": tuple(sorted(cases, key=lambda c: (c.area_code, c.case_id))),
            "areas": tuple(sorted(areas)),
            "handed_over_by": handed_over_by,
        },
    )


# --- per case -------------------------------------------------------------------------------


def due_reminders(facts: CaseFacts, now: datetime, settings: Settings) -> list[Reminder]:
    """The reminders due for one case at `now` (aware UTC), not yet filtered by the outbox."""
    if not facts.is_open:
        return []
    today = london_date(now)
    reminders: list[Reminder] = []
    reminders += _partnership_reminders(facts, now, today, settings)
    reminders += _rep_reminders(facts, now, settings)
    return reminders


def _partnership_reminders(
    facts: CaseFacts, now: datetime, today: date, settings: Settings
) -> list[Reminder]:
    contacts = [c for c in facts.contacts if c.reachable]
    if not contacts or is_paused(facts.reminders_paused_until, now):
        return []
    send_at = next_send_time(now)  # partnerships: working days, 09:00-17:00 London
    found: list[tuple[str, str, ActionFacts | None, int | None]] = []  # (key stem, kind, ...)
    for action in facts.actions:
        if (
            action.owner != Owner.PARTNERSHIP
            or action.status != ActionStatus.OPEN
            or action.due_on is None
        ):
            continue
        stem = action_key_stem(action.id, action.due_on)
        if action.due_on - timedelta(days=settings.due_soon_days) <= today <= action.due_on:
            found.append((f"{stem}:due_soon", ReminderKind.DUE_SOON, action, None))
        repeat = overdue_repeat(action.due_on, today, settings)
        if repeat:
            found.append((f"{stem}:overdue:{repeat}", ReminderKind.OVERDUE, action, repeat))
    checkin = checkin_repeat(facts.opened_on, today, settings)
    if checkin:
        found.append(
            (f"case:{facts.case_id}:checkin:{checkin}", ReminderKind.CHECKIN, None, checkin)
        )
    return [
        Reminder(
            key=f"{stem}:c{contact.id}",
            kind=kind,
            audience=Owner.PARTNERSHIP,
            recipient=contact.email,
            recipient_name=contact.name,
            not_before=send_at,
            case_id=facts.case_id,
            contact_id=contact.id,
            reply_to=facts.rep_email,
            case=facts,
            action=action,
            contact=contact,
            repeat=repeat,
        )
        for stem, kind, action, repeat in found
        for contact in contacts
    ]


def action_key_stem(action_id: int, due_on: date) -> str:
    """The start of an action's reminder keys. It carries the due date: an action moved to
    another date gets fresh reminders (its old ones are cancelled when it moves)."""
    return f"action:{action_id}:{due_on.isoformat()}"


def overdue_repeat(due_on: date, today: date, settings: Settings) -> int | None:
    """Which overdue reminder (1..max) is the latest due by `today`, or None."""
    first = due_on + timedelta(days=settings.overdue_after_days)
    if today < first:
        return None
    return min(settings.overdue_max, (today - first).days // settings.overdue_every_days + 1)


def checkin_repeat(opened_on: date, today: date, settings: Settings) -> int | None:
    """Which check-in (1, 2, ...) is the latest due by `today`, or None."""
    repeat = (today - opened_on).days // settings.checkin_every_days
    return repeat if repeat >= 1 else None


def stale_repeat(last_activity_at: datetime, now: datetime, settings: Settings) -> int | None:
    """Which stale reminder (1, 2, ...) is the latest due at `now`, or None."""
    quiet = now - last_activity_at
    after = timedelta(days=settings.stale_after_days)
    if quiet < after:
        return None
    return (quiet - after) // timedelta(days=settings.stale_every_days) + 1


def is_stale(facts: CaseFacts, now: datetime, settings: Settings) -> bool:
    return now - facts.last_activity_at >= timedelta(days=settings.stale_after_days)


def _fresh(when: datetime | None, now: datetime, settings: Settings) -> bool:
    """A one-off notice is mailed only while recent (None: the time is unknown, mail it)."""
    if when is None:
        return True
    return when <= now and now - when <= timedelta(days=settings.notice_window_days)


def assignment_key(case_id: int, rep_id: int) -> str:
    """One new-case notice per case and rep, whether queued at the assignment or by a sweep."""
    return f"case:{case_id}:assigned:{rep_id}"


def assignment_notice(facts: CaseFacts, now: datetime) -> Reminder | None:
    """The notice to the case's rep that the case is theirs, to queue with the assignment."""
    if not facts.is_open or facts.rep_id is None or not facts.rep_email:
        return None
    return Reminder(
        key=assignment_key(facts.case_id, facts.rep_id),
        kind=ReminderKind.NEW_CASE,
        audience=Owner.REP,
        recipient=facts.rep_email,
        recipient_name=facts.rep_name or facts.rep_email,
        not_before=now,
        case_id=facts.case_id,
        case=facts,
    )


def _rep_reminders(facts: CaseFacts, now: datetime, settings: Settings) -> list[Reminder]:
    """Mail to the rep and the programme team: never held back to the send window."""
    found: list[Reminder] = []
    case_key = f"case:{facts.case_id}"

    def to_rep(key: str, kind: str, repeat: int | None = None) -> None:
        if facts.rep_id is not None and facts.rep_email:
            found.append(
                Reminder(
                    key=key,
                    kind=kind,
                    audience=Owner.REP,
                    recipient=facts.rep_email,
                    recipient_name=facts.rep_name or facts.rep_email,
                    not_before=now,
                    case_id=facts.case_id,
                    case=facts,
                    repeat=repeat,
                )
            )

    def to_programme(key: str, kind: str) -> None:
        if settings.programme_email:
            found.append(
                Reminder(
                    key=key,
                    kind=kind,
                    audience=Owner.PROGRAMME,
                    recipient=settings.programme_email,
                    recipient_name="Programme team",
                    not_before=now,
                    case_id=facts.case_id,
                    case=facts,
                )
            )

    if (
        facts.rep_id is not None
        and not facts.assignment_listed
        and _fresh(facts.assigned_at, now, settings)
    ):
        to_rep(assignment_key(facts.case_id, facts.rep_id), ReminderKind.NEW_CASE)
    stale = stale_repeat(facts.last_activity_at, now, settings)
    if stale:
        anchor = london_date(facts.last_activity_at).isoformat()
        to_rep(f"{case_key}:stale:{anchor}:{stale}", ReminderKind.STALE, stale)
    if facts.escalated_count >= 1 and _fresh(facts.escalated_at, now, settings):
        stem = f"{case_key}:escalated:{facts.escalated_count}"
        to_rep(f"{stem}:rep", ReminderKind.ESCALATED, facts.escalated_count)
        to_programme(f"{stem}:programme", ReminderKind.ESCALATED)
    if facts.returned_on is not None and _fresh(facts.returned_at, now, settings):
        to_rep(f"{case_key}:returned:rep", ReminderKind.RETURNED)
        to_programme(f"{case_key}:returned:programme", ReminderKind.RETURNED)
    return found


# --- weekly digests -------------------------------------------------------------------------


def digest_moment(now: datetime, settings: Settings) -> datetime:
    """The latest digest moment (Monday 08:00 London by default) at or before `now`."""
    today = london_date(now)
    day = today - timedelta(days=(today.weekday() - settings.digest_weekday) % 7)
    moment = london_moment(day, settings.digest_at)
    if moment > now:
        moment = london_moment(day - timedelta(days=7), settings.digest_at)
    return moment


def week_label(moment: datetime) -> str:
    """ISO week of `moment` in London, e.g. '2026-W49'."""
    year, week, _ = london_date(moment).isocalendar()
    return f"{year}-W{week:02d}"


def due_digests(
    cases: Iterable[CaseFacts],
    news: Sequence[CaseNews],
    now: datetime,
    settings: Settings,
) -> list[Reminder]:
    """This week's rep digests (one per rep with open cases) and the programme digest.

    `news` are the case events of the week before the digest moment (others are ignored)."""
    at = digest_moment(now, settings)
    week = week_label(at)
    today = london_date(now)
    open_cases = sorted((c for c in cases if c.is_open), key=lambda c: c.area_code)
    reminders = [
        _rep_digest(rep_cases, week, at, now, today, settings)
        for rep_cases in _by_rep(open_cases).values()
    ]
    if settings.programme_email:
        reminders.append(_programme_digest(open_cases, news, week, at, now, settings))
    return reminders


def _by_rep(cases: Iterable[CaseFacts]) -> dict[int, list[CaseFacts]]:
    grouped: dict[int, list[CaseFacts]] = {}
    for case in cases:
        if case.rep_id is not None and case.rep_email:
            grouped.setdefault(case.rep_id, []).append(case)
    return grouped


def overdue_actions(case: CaseFacts, today: date) -> list[ActionFacts]:
    """Open actions (any owner) past their due date."""
    return [
        a
        for a in case.actions
        if a.status == ActionStatus.OPEN and a.due_on is not None and a.due_on < today
    ]


def _rep_digest(
    cases: list[CaseFacts],
    week: str,
    at: datetime,
    now: datetime,
    today: date,
    settings: Settings,
) -> Reminder:
    first = cases[0]
    overdue = [(case, action) for case in cases for action in overdue_actions(case, today)]
    overdue.sort(key=lambda pair: (pair[1].due_on, pair[0].area_code))
    return Reminder(
        key=f"digest:rep:{first.rep_id}:{week}",
        kind=ReminderKind.REP_DIGEST,
        audience=Owner.REP,
        recipient=first.rep_email or "",
        recipient_name=first.rep_name or first.rep_email or "",
        not_before=now,
        data={
            "week": week,
            "digest_at": at,
            "cases": cases,
            "stale_case_ids": {c.case_id for c in cases if is_stale(c, now, settings)},
            "overdue": overdue,
        },
    )


def _programme_digest(
    open_cases: list[CaseFacts],
    news: Sequence[CaseNews],
    week: str,
    at: datetime,
    now: datetime,
    settings: Settings,
) -> Reminder:
    since = at - timedelta(days=7)
    recent = sorted((n for n in news if since <= n.at < at), key=lambda n: (n.at, n.case_id))
    return Reminder(
        key=f"digest:programme:{week}",
        kind=ReminderKind.PROGRAMME_DIGEST,
        audience=Owner.PROGRAMME,
        recipient=settings.programme_email or "",
        recipient_name="Programme team",
        not_before=now,
        data={
            "week": week,
            "digest_at": at,
            "since": since,
            "opened": [n for n in recent if n.kind == EventKind.OPENED],
            "escalated": [n for n in recent if n.kind == EventKind.ESCALATED],
            "returned": [n for n in recent if n.kind == EventKind.RETURNED],
            "stale": [c for c in open_cases if is_stale(c, now, settings)],
            "unassigned": [c for c in open_cases if c.rep_id is None],
        },
    )
