"""The reminder sweep (docs/reminders.md): read every open case in a few set-based queries, ask the
reminder rules what is due, render it, and enqueue it in the outbox.

The sweep may run at any time, any number of times, from any number of processes: the outbox's
unique key and INSERT ... ON CONFLICT DO NOTHING make each reminder enqueued exactly once.
Nothing is sent here. The only timeline events a sweep writes are "reminders resumed", once per
case whose pause has ended (the sender writes `email_sent`)."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import Flask, current_app
from jinja2 import Environment, Template, meta
from markupsafe import Markup
from sqlalchemy import case as sql_case
from sqlalchemy import column as sql_column
from sqlalchemy import func, or_, select, update
from sqlalchemy import table as sql_table

from app.extensions import db
from app.models import Action, ActionPlan, Area, Case, CaseEvent, Contact, OutboxMessage, User
from app.operations.casework import record_event
from app.operations.job_runs import record_run
from app.operations.optout import optout_link, optout_serializer
from app.operations.partnership_links import LINK_PLACEHOLDER
from app.operations.rows import table_of
from app.operations.tokens import BulkSigner
from app.rules.calendar import day_words, london_date, london_moment, london_moment_words
from app.rules.distance import describe_distance, distance_to_criteria
from app.rules.reminders import (
    ActionFacts,
    CaseFacts,
    CaseNews,
    ContactFacts,
    Reminder,
    Settings,
    assignment_notice,
    digest_moment,
    due_digests,
    due_reminders,
)
from app.rules.vocabulary import (
    FLAG_WORDS,
    OPEN_STATUSES,
    OWNER_WORDS,
    STATUS_WORDS,
    SUPPORT_WORDS,
    ActionStatus,
    EventKind,
    JobName,
    OutboxStatus,
    ReminderKind,
)
from app.settings import criteria_thresholds

log = logging.getLogger(__name__)

BATCH = 500
GENERAL_OFFER = tuple(SUPPORT_WORDS.values())
NOTICE_KINDS = (EventKind.ASSIGNED, EventKind.ESCALATED, EventKind.RETURNED)
NEWS_KINDS = (EventKind.OPENED, EventKind.ESCALATED, EventKind.RETURNED)
# An assigned event whose rep was told in a list of new cases (bulk change, handover).
_LISTED = CaseEvent.data["notice"].as_string() == ReminderKind.NEW_CASES.value
# Optional configuration keys → Settings fields (defaults in app.rules.reminders.Settings).
CONFIG_KEYS = {
    "REMINDER_DUE_SOON_DAYS": "due_soon_days",
    "REMINDER_OVERDUE_AFTER_DAYS": "overdue_after_days",
    "REMINDER_OVERDUE_EVERY_DAYS": "overdue_every_days",
    "REMINDER_OVERDUE_MAX": "overdue_max",
    "REMINDER_CHECKIN_EVERY_DAYS": "checkin_every_days",
    "REMINDER_STALE_AFTER_DAYS": "stale_after_days",
    "REMINDER_STALE_EVERY_DAYS": "stale_every_days",
    "REMINDER_NOTICE_WINDOW_DAYS": "notice_window_days",
}


@dataclass
class SweepSummary:
    """What a sweep did, for the CLI and the scheduler's log."""

    now: datetime
    cases: int = 0
    enqueued: Counter = field(default_factory=Counter)  # kind -> mails enqueued
    already_queued: int = 0
    resumed: int = 0  # cases whose reminder pause ended

    @property
    def total(self) -> int:
        return sum(self.enqueued.values())

    def line(self) -> str:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.enqueued.items()))
        moment = self.now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"Sweep at {moment}: {plural(self.cases, 'open case')} evaluated; "
            f"{plural(self.total, 'mail')} enqueued{f' ({kinds})' if kinds else ''}; "
            f"{self.already_queued} already queued."
            + (f" Reminders resumed on {plural(self.resumed, 'case')}." if self.resumed else "")
        )


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def settings_from_config(config: Mapping[str, Any]) -> Settings:
    values: dict[str, Any] = {
        name: int(config[key]) for key, name in CONFIG_KEYS.items() if key in config
    }
    return Settings(programme_email=config.get("PROGRAMME_TEAM_EMAIL") or None, **values)


def run_sweep(now: datetime, *, settings: Settings | None = None) -> SweepSummary:
    """Enqueue every reminder and digest due at `now`; the caller commits."""
    return _sweep(now, settings, per_case=True)


def enqueue_digests(now: datetime, *, settings: Settings | None = None) -> SweepSummary:
    """Enqueue this week's digests only (the scheduler's Monday 08:00 job); the caller commits."""
    return _sweep(now, settings, per_case=False)


def queue_assignment_notice(case_id: int, now: datetime) -> bool:
    """Queue the new-case notice to the case's rep now, in the caller's transaction: the
    assignment's own mail. A later sweep finds the same key and queues nothing."""
    settings = settings_from_config(current_app.config)
    facts = load_case_facts(now, settings, [case_id])
    notice = assignment_notice(facts[0], now) if facts else None
    if notice is None:
        return False
    return bool(_enqueue([notice], MailRenderer(settings), now))


def _sweep(now: datetime, settings: Settings | None, *, per_case: bool) -> SweepSummary:
    if now.tzinfo is None:
        raise ValueError("run_sweep needs an aware datetime")
    settings = settings or settings_from_config(current_app.config)
    # Pauses whose date has come end first, so their reminders are due in this very sweep.
    resumed = resume_ended_pauses(now) if per_case else 0
    facts = load_case_facts(now, settings)
    summary = SweepSummary(now=now, cases=len(facts), resumed=resumed)
    reminders: list[Reminder] = []
    if per_case:
        for case in facts:
            reminders += due_reminders(case, now, settings)
    at = digest_moment(now, settings)
    reminders += due_digests(facts, load_news(at - timedelta(days=7), at), now, settings)
    existing = existing_keys(r.key for r in reminders if r.case_id is None)
    fresh = [r for r in reminders if r.key not in existing]
    summary.already_queued = len(reminders) - len(fresh)
    inserted = _enqueue(fresh, MailRenderer(settings), now)
    summary.already_queued += len(fresh) - len(inserted)
    summary.enqueued.update(r.kind for r in fresh if r.key in inserted)
    record_run(JobName.SWEEP, now)
    return summary


# --- pauses whose date has come ------------------------------------------------------------


def resume_ended_pauses(now: datetime) -> int:
    """End every pause whose date has come, with one "resumed" event each (the sweep).

    The UPDATE decides which cases end: of two sweeps at once, only one sees each row still
    paused, so the event is written once."""
    today = london_date(now)
    ended = (
        db.session.execute(
            update(Case)
            .where(
                Case.reminders_paused_until.is_not(None),
                Case.reminders_paused_until <= today,
                Case.status.in_(OPEN_STATUSES),
            )
            .values(
                reminders_paused_until=None,
                reminders_paused_reason=None,
                version=Case.version + 1,
            )
            .returning(Case.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    if not ended:
        return 0
    ids = sorted(ended)
    cases = db.session.scalars(
        select(Case).where(Case.id.in_(ids)).execution_options(populate_existing=True)
    )
    # The date the pause ran to is cleared now; its "paused" event still has it.
    until = _paused_until(ids)
    for case in cases:
        day = until.get(case.id)
        record_event(
            case,
            EventKind.REMINDERS_RESUMED,
            "Partnership reminders resumed: the pause"
            + (f" until {day_words(day)}" if day else "")
            + " has ended.",
            now=now,
            data={"until": day.isoformat() if day else None, "early": False},
        )
        log.info("case %s: partnership reminders resumed (the pause ended)", case.id)
    return len(ids)


def _paused_until(case_ids: list[int]) -> dict[int, date]:
    """The date of each case's latest pause, from its "reminders paused" events."""
    rows = db.session.execute(
        select(CaseEvent.case_id, CaseEvent.data)
        .where(CaseEvent.case_id.in_(case_ids), CaseEvent.kind == EventKind.REMINDERS_PAUSED)
        .order_by(CaseEvent.created_at, CaseEvent.id)
    )
    found: dict[int, date] = {}
    for case_id, data in rows:
        if (data or {}).get("until"):
            found[case_id] = date.fromisoformat(data["until"])
    return found


# --- reading the facts, in a fixed number of queries ----------------------------------------


def _open_case_ids(only: Sequence[int] | None = None):
    query = select(Case.id).where(Case.status.in_(OPEN_STATUSES))
    if only is not None:
        query = query.where(Case.id.in_(only))
    return query.scalar_subquery()


def load_case_facts(
    now: datetime, settings: Settings, case_ids: Sequence[int] | None = None
) -> list[CaseFacts]:
    """Facts of every open case (or of those in `case_ids`): five queries, whatever the number
    of cases.

    Only open actions due by the end of the due-soon window are read: no rule looks further
    ahead (due soon, overdue, the digests' overdue lists)."""
    open_ids = _open_case_ids(case_ids)
    # One case (an assignment) or all open ones (the sweep): the same queries either way.
    scope = [Case.status.in_(OPEN_STATUSES)]
    if case_ids is not None:
        scope.append(Case.id.in_(case_ids))
    horizon = london_date(now) + timedelta(days=settings.due_soon_days)
    rows = db.session.execute(
        select(
            Case.id,
            Case.status,
            Case.flag,
            Case.opened_on,
            Case.created_at,
            Case.last_activity_at,
            Case.rep_id,
            Case.escalated_count,
            Case.last_escalated_on,
            Case.returned_on,
            Case.area_id,
            Area.code,
            Area.name,
            User.name,
            User.email,
            User.active,
            Area.current_members,
            Area.current_residents,
            Case.reminders_paused_until,
        )
        .join(Area, Area.id == Case.area_id)
        .outerjoin(User, User.id == Case.rep_id)
        .where(*scope)
        .order_by(Case.id)
    ).all()
    support = dict(
        db.session.execute(
            select(ActionPlan.case_id, ActionPlan.support).where(ActionPlan.case_id.in_(open_ids))
        ).all()
    )
    actions: dict[int, list[ActionFacts]] = defaultdict(list)
    for case_id, action_id, description, owner, due_on, status in db.session.execute(
        select(
            ActionPlan.case_id,
            Action.id,
            Action.description,
            Action.owner,
            Action.due_on,
            Action.status,
        )
        .join(ActionPlan, ActionPlan.id == Action.plan_id)
        .where(
            ActionPlan.case_id.in_(open_ids),
            Action.status == ActionStatus.OPEN,
            Action.due_on.is_not(None),
            Action.due_on <= horizon,
        )
        .order_by(Action.id)
    ):
        actions[case_id].append(ActionFacts(action_id, description, owner, due_on, status))
    contacts: dict[int, list[ContactFacts]] = defaultdict(list)
    for area_id, contact_id, name, email, opted_out, bouncing in db.session.execute(
        select(
            Contact.area_id,
            Contact.id,
            Contact.name,
            Contact.email,
            Contact.opted_out,
            Contact.bouncing_at.is_not(None),
        )
        .join(Case, Case.area_id == Contact.area_id)
        .where(*scope)
        .order_by(Contact.id)
    ):
        contacts[area_id].append(ContactFacts(contact_id, name, email, opted_out, bouncing))
    notices: dict[tuple[int, str], datetime] = {}
    listed: set[int] = set()  # cases whose latest assignment was told in a list of new cases
    for case_id, kind, at, listed_at in db.session.execute(
        select(
            CaseEvent.case_id,
            CaseEvent.kind,
            func.max(CaseEvent.created_at),
            func.max(sql_case((_LISTED, CaseEvent.created_at))),
        )
        .where(CaseEvent.case_id.in_(open_ids), CaseEvent.kind.in_(NOTICE_KINDS))
        .group_by(CaseEvent.case_id, CaseEvent.kind)
    ):
        notices[(case_id, kind)] = at
        if kind == EventKind.ASSIGNED and listed_at is not None and listed_at >= at:
            listed.add(case_id)
    return [
        _facts(row, support.get(row[0]), actions, contacts, notices, now, row[0] in listed)
        for row in rows
    ]


def _facts(row, support, actions, contacts, notices, now, listed=False) -> CaseFacts:
    (
        case_id,
        status,
        flag,
        opened_on,
        created_at,
        last_activity_at,
        rep_id,
        escalated_count,
        last_escalated_on,
        returned_on,
        area_id,
        code,
        area_name,
        rep_name,
        rep_email,
        rep_active,
        members,
        residents,
        paused_until,
    ) = row
    if rep_id is not None and not rep_active:
        rep_email = None  # an inactive rep gets no mail; the programme digest still shows it
    return CaseFacts(
        case_id=case_id,
        area_code=code,
        area_name=area_name,
        status=status,
        flag=flag,
        opened_on=opened_on,
        last_activity_at=last_activity_at or now,
        created_at=created_at,
        rep_id=rep_id,
        rep_name=rep_name,
        rep_email=rep_email,
        assigned_at=notices.get((case_id, EventKind.ASSIGNED)) or created_at,
        assignment_listed=listed,
        escalated_count=escalated_count or 0,
        escalated_at=notices.get((case_id, EventKind.ESCALATED)) or _midnight(last_escalated_on),
        returned_on=returned_on,
        returned_at=notices.get((case_id, EventKind.RETURNED)) or _midnight(returned_on),
        actions=tuple(actions.get(case_id, ())),
        contacts=tuple(contacts.get(area_id, ())),
        support=tuple(SUPPORT_WORDS[key] for key in (support or ()) if key in SUPPORT_WORDS),
        members=members,
        residents=residents,
        reminders_paused_until=paused_until,
    )


def _midnight(day: date | None) -> datetime | None:
    return london_moment(day) if day is not None else None


def load_news(since: datetime, until: datetime) -> list[CaseNews]:
    """Cases opened, escalated or returned in [since, until), open or not (one query)."""
    rows = db.session.execute(
        select(
            CaseEvent.case_id, Area.code, Area.name, CaseEvent.kind, CaseEvent.created_at, User.name
        )
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Area, Area.id == Case.area_id)
        .outerjoin(User, User.id == Case.rep_id)
        .where(
            CaseEvent.kind.in_(NEWS_KINDS),
            CaseEvent.created_at >= since,
            CaseEvent.created_at < until,
        )
        .order_by(CaseEvent.created_at, CaseEvent.id)
    )
    return [CaseNews(*row) for row in rows]


def existing_keys(digest_keys: Iterable[str]) -> set[str]:
    """Keys already in the outbox for open cases, plus those of this sweep's digests."""
    digest_keys = sorted(set(digest_keys))
    return set(
        db.session.scalars(
            select(OutboxMessage.key).where(
                or_(OutboxMessage.case_id.in_(_open_case_ids()), OutboxMessage.key.in_(digest_keys))
            )
        )
    )


# --- rendering and enqueueing ---------------------------------------------------------------


def _enqueue(reminders: Sequence[Reminder], renderer: MailRenderer, now: datetime) -> set[str]:
    """Render and insert, skipping keys already present (even ones another process has just
    written); returns the keys this call inserted."""
    if not reminders:
        return set()
    # The same key order in every process, so two concurrent sweeps never deadlock.
    ordered = sorted(reminders, key=lambda reminder: reminder.key)
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql" and len(ordered) >= COPY_FROM:
        return _copy_in(ordered, renderer, now)
    # Imported here: the PostgreSQL dialect takes ~50 ms to import, at every start otherwise.
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    table = table_of(OutboxMessage)
    statement = insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
    inserted: set[str] = set()
    for start in range(0, len(ordered), BATCH):
        rows = [renderer.row(reminder, now) for reminder in ordered[start : start + BATCH]]
        inserted.update(db.session.execute(statement, rows).scalars())
    return inserted


# What a sweep writes into a new outbox row (MailRenderer.row), in this order.
COLUMNS = (
    "key",
    "kind",
    "recipient",
    "reply_to",
    "subject",
    "body_text",
    "body_html",
    "case_id",
    "contact_id",
    "not_before",
    "status",
    "attempts",
    "created_at",
)
# From this many mails on PostgreSQL, COPY (below); fewer go in one plain INSERT.
COPY_FROM = 200
INCOMING = "outbox_incoming"


def _copy_in(ordered: Sequence[Reminder], renderer: MailRenderer, now: datetime) -> set[str]:
    """PostgreSQL: stream the rows with COPY as they are rendered, so the server stores them
    while the next ones are rendered (a first sweep writes tens of thousands of mails, ~75 MB
    of bodies; as multi-row INSERTs psycopg parsed each 6,500-parameter statement again and
    the server stored nothing until it had all of it).

    COPY has no ON CONFLICT: the rows go straight into the outbox inside a savepoint, and the
    unique key refuses the whole lot if a key is there already (another sweep has just
    queued it: the keys seen at the start were left out). Then the rows go again through a
    temporary table and one INSERT ... SELECT ... ON CONFLICT (key) DO NOTHING, which skips
    those keys, as the plain INSERT does."""
    from psycopg.errors import UniqueViolation

    table = table_of(OutboxMessage)
    try:
        with db.session.begin_nested():
            _copy_rows(table.name, ordered, renderer, now)
        return {reminder.key for reminder in ordered}
    except UniqueViolation:
        log.info("sweep: some keys were queued meanwhile; moving the rows past them")
    connection = db.session.connection()
    names = ", ".join(COLUMNS)
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {INCOMING} ON COMMIT DROP AS "
        f"SELECT {names} FROM {table.name} WITH NO DATA"
    )
    _copy_rows(INCOMING, ordered, renderer, now)
    from sqlalchemy.dialects import postgresql

    incoming = sql_table(INCOMING, *(sql_column(name) for name in COLUMNS))
    move = (
        postgresql.insert(table)
        .from_select(list(COLUMNS), select(incoming).order_by(incoming.c.key))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    )
    inserted = set(db.session.execute(move).scalars())
    connection.exec_driver_sql(f"DROP TABLE {INCOMING}")  # a second call in this transaction
    return inserted


def _copy_rows(
    into: str, ordered: Sequence[Reminder], renderer: MailRenderer, now: datetime
) -> None:
    """Render each reminder and COPY its row into the table `into` (in key order)."""
    connection = db.session.connection()
    table = table_of(OutboxMessage)
    # The columns' own bind processing (UTC datetimes checked and converted, as in an INSERT).
    process = [table.c[name].type.bind_processor(connection.dialect) for name in COLUMNS]
    driver = connection.connection.driver_connection
    assert driver is not None
    names = ", ".join(COLUMNS)
    with driver.cursor() as cursor, cursor.copy(f"COPY {into} ({names}) FROM STDIN") as copy:
        for reminder in ordered:
            row = renderer.row(reminder, now)
            copy.write_row(
                [
                    value if convert is None else convert(value)
                    for convert, value in zip(process, (row[name] for name in COLUMNS), strict=True)
                ]
            )


def mail_environment(app: Flask) -> Environment:
    """The app's templates, filters and autoescaping (HTML escaped, text not), without the
    page globals (url_for, request, the vocabulary…): a mail's context is all it needs, and
    Jinja copies the globals into every render, twice per mail. Made once per app."""
    env = app.extensions.get("mail_jinja")
    if env is None:
        pages = app.jinja_env
        env = Environment(
            loader=pages.loader,
            autoescape=pages.autoescape,
            undefined=pages.undefined,
            auto_reload=pages.auto_reload,
            keep_trailing_newline=pages.keep_trailing_newline,
            trim_blocks=pages.trim_blocks,
            lstrip_blocks=pages.lstrip_blocks,
        )
        env.filters.update(pages.filters)
        env.globals.clear()
        app.extensions["mail_jinja"] = env
    return env


FOOTER = "emails/_partnership_footer"


def footer_needs(env: Environment) -> set[str]:
    """Every variable the partnership footer templates read, through their includes (worked
    out once per environment)."""
    found = getattr(env, "partnership_footer_needs", None)
    if found is None:
        found = _footer_needs(env)
        setattr(env, "partnership_footer_needs", found)  # noqa: B010 (not a Jinja attribute)
    return found


def _footer_needs(env: Environment) -> set[str]:
    needs: set[str] = set()
    seen: set[str] = set()
    waiting = [f"{FOOTER}.txt", f"{FOOTER}.html"]
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        assert env.loader is not None
        source = env.loader.get_source(env, name)[0]
        tree = env.parse(source)
        needs |= meta.find_undeclared_variables(tree)
        for included in meta.find_referenced_templates(tree):
            if included is None:  # an include by a variable: anything could be read
                return {"?"}
            waiting.append(included)
    return needs


class MailRenderer:
    """Renders reminders into outbox rows with the app's mail templates (HTML autoescaped).

    Templates, opt-out links and what a mail says about its case are made once per sweep,
    not once per mail: a first sweep over a large programme renders tens of thousands."""

    def __init__(self, settings: Settings) -> None:
        config = current_app.config
        self.env = mail_environment(current_app)
        self.thresholds = criteria_thresholds()
        self.cases: dict[int, dict[str, Any]] = {}  # by case id; 0: mail about no case
        self.base = config["BASE_URL"].rstrip("/")
        self.shared = {
            "support_email": config["SUPPORT_EMAIL"],
            "base_url": self.base,
            "stale_after_days": settings.stale_after_days,
            "flag_words": FLAG_WORDS,
            "status_words": STATUS_WORDS,
            "owner_words": OWNER_WORDS,
            # The same few dates come back in every mail (memoised per renderer).
            "day": lru_cache(maxsize=4096)(day_words),
            "moment": moment_words,
            "london_day": london_date,
            # The sender puts each contact's fresh personal link in place of this.
            "partnership_url": LINK_PLACEHOLDER,
            "link_days": config["PARTNERSHIP_LINK_DAYS"],
        }
        self.serializer = BulkSigner(optout_serializer())
        self.links: dict[int, str] = {}
        self.distances: dict[tuple[int, int, str], str | None] = {}
        self.templates: dict[str, Template] = {}
        # A partnership mail's footer (its rep, the support on offer, the opt-out and personal
        # links) is the same for every mail of a case to one contact: rendered once for them.
        self.footers: dict[tuple[int, int], tuple[str, Markup]] = {}
        self.footer_once = footer_needs(self.env) <= {*self.about_case(None), "optout_url"}

    def optout_url(self, contact_id: int) -> str:
        if contact_id not in self.links:
            self.links[contact_id] = optout_link(contact_id, self.serializer)
        return self.links[contact_id]

    def context(self, reminder: Reminder) -> dict[str, Any]:
        context = {
            **self.about_case(reminder.case),
            "reminder": reminder,
            "action": reminder.action,
            "contact": reminder.contact,
            "data": reminder.data,
            "optout_url": self.optout_url(reminder.contact_id) if reminder.contact_id else None,
        }
        if reminder.contact_id is not None:  # mail to the partnership: it has the footer
            text, html = self.footer(reminder, context)
            context["partnership_footer_text"] = text
            context["partnership_footer_html"] = html
        return context

    def footer(self, reminder: Reminder, context: dict[str, Any]) -> tuple[str, Markup]:
        """The footer's text and HTML for this mail: made once per case and contact when it
        reads only what is the same for them (checked on its templates), else every time."""
        key = (reminder.case.case_id if reminder.case else 0, reminder.contact_id or 0)
        found = self.footers.get(key) if self.footer_once else None
        if found is None:
            found = (
                self.render(f"{FOOTER}.txt", context),
                Markup(self.render(f"{FOOTER}.html", context)),
            )
            if self.footer_once:
                self.footers[key] = found
        return found

    def about_case(self, case: CaseFacts | None) -> dict[str, Any]:
        """The shared values and what every mail of `case` says about it (made once a case)."""
        key = case.case_id if case is not None else 0
        found = self.cases.get(key)
        if found is None:
            found = self.cases[key] = {
                **self.shared,
                "case": case,
                "support": (case.support or GENERAL_OFFER) if case else GENERAL_OFFER,
                "general_offer": bool(case and not case.support),
                "case_url": f"{self.base}/cases/{case.case_id}" if case else None,
                "last_activity_on": london_date(case.last_activity_at) if case else None,
                # Distance to criteria in words: "needs 2 more members, …" (the rep's mail) or
                # "one member leaving would put you under criteria" (the partnership's).
                "distance_it": self.distance(case, "it"),
                "distance_you": self.distance(case, "you"),
            }
        return found

    def distance(self, case: CaseFacts | None, subject: str) -> str | None:
        """A sentence on what would bring the area back, or how close it is to falling under."""
        if case is None or case.members is None or case.residents is None:
            return None
        key = (case.members, case.residents, subject)
        if key not in self.distances:  # the same few counts come back case after case
            self.distances[key] = self._distance(case.members, case.residents, subject)
        return self.distances[key]

    def _distance(self, members: int, residents: int, subject: str) -> str | None:
        distance = distance_to_criteria(members, residents, self.thresholds)
        words = describe_distance(distance, subject=subject)
        who = "the partnership" if subject == "you" else "the area"
        if distance.more_members:
            return f"As last recorded, {who} {words}."
        if distance.one_leaving_puts_under:
            return f"As last recorded, {who} is at the minimum: {words}."
        return None

    def render(self, name: str, context: dict[str, Any]) -> str:
        template = self.templates.get(name)
        if template is None:
            template = self.templates[name] = self.env.get_template(name)
        # Template.render(context), but reading `context` itself instead of a copy of it (and
        # of the globals, which this environment has none of): a mail is rendered twice.
        try:
            return self.env.concat(
                template.root_render_func(template.new_context(context, shared=True))
            )
        except Exception:
            self.env.handle_exception()
            raise  # handle_exception re-raises with the template's lines in the traceback

    def row(self, reminder: Reminder, now: datetime) -> dict[str, Any]:
        context = self.context(reminder)
        return {
            "key": reminder.key,
            "kind": reminder.kind,
            "recipient": reminder.recipient,
            "reply_to": reminder.reply_to,
            "subject": subject(reminder),
            "body_text": self.render(f"emails/{reminder.kind}.txt", context),
            "body_html": self.render(f"emails/{reminder.kind}.html", context),
            "case_id": reminder.case_id,
            "contact_id": reminder.contact_id,
            "not_before": reminder.not_before,
            "status": OutboxStatus.QUEUED,
            "attempts": 0,
            "created_at": now,
        }


def _new_cases_subject(data) -> str:
    cases, areas = len(data["cases"]), len(data["areas"])
    if data.get("handed_over_by"):
        parts = [plural(n, word) for n, word in ((areas, "area"), (cases, "open case")) if n]
        return f"Handed over to you from {data['handed_over_by']}: {' and '.join(parts)}"
    return f"{plural(cases, 'case')} assigned to you"


def enqueue_now(reminders: Sequence[Reminder], now: datetime) -> set[str]:
    """Render and enqueue mail made outside a sweep (a rep's list of new cases) in the
    caller's transaction; returns the keys inserted."""
    return _enqueue(reminders, MailRenderer(settings_from_config(current_app.config)), now)


def moment_words(moment: datetime | None) -> str:
    """A moment in London: '25 Nov 2026 at 10:00'."""
    return london_moment_words(moment, " at ")


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _about_action(action: ActionFacts | None) -> tuple[str, str]:
    """An action reminder's action in a subject: its description, short, and its date."""
    if action is None:
        raise ValueError("an action reminder needs its action")
    return _short(action.description), day_words(action.due_on)


def subject(reminder: Reminder) -> str:
    """The subject line: one line, plain words, never more than the column allows."""
    case = reminder.case
    area = f"{case.area_name} ({case.area_code})" if case else ""
    return _short(_SUBJECTS[reminder.kind](reminder, area), 300)


def _due_subject(reminder: Reminder, area: str) -> str:
    what, day = _about_action(reminder.action)
    return f"Reminder: “{what}” is due on {day} – {area}"


def _overdue_subject(reminder: Reminder, area: str) -> str:
    what, day = _about_action(reminder.action)
    return f"Overdue: “{what}” was due on {day} – {area}"


def _rep_digest_subject(reminder: Reminder, area: str) -> str:
    data = reminder.data
    return (
        f"Your weekly digest ({data['week']}): {plural(len(data['cases']), 'open case')}, "
        f"{plural(len(data['overdue']), 'overdue action')}"
    )


# Each kind of reminder's subject, from the reminder and the area's words ("Name (CODE)").
_SUBJECTS: dict[str, Callable[[Reminder, str], str]] = {
    ReminderKind.DUE_SOON: _due_subject,
    ReminderKind.OVERDUE: _overdue_subject,
    ReminderKind.CHECKIN: lambda r, area: (
        f"How is your partnership's membership? Please send an update – {area}"
    ),
    ReminderKind.NEW_CASE: lambda r, area: f"New case assigned to you: {area}",
    ReminderKind.NEW_CASES: lambda r, area: _new_cases_subject(r.data),
    ReminderKind.STALE: lambda r, area: f"No activity on the case for {area}: time for a follow-up",
    ReminderKind.ESCALATED: lambda r, area: f"Escalated: {area} is under criteria again",
    ReminderKind.RETURNED: lambda r, area: f"Returned within criteria: {area}",
    ReminderKind.REP_DIGEST: _rep_digest_subject,
    ReminderKind.PROGRAMME_DIGEST: lambda r, area: f"Programme weekly digest ({r.data['week']})",
}
