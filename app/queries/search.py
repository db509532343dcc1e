"""Search from the header box: cases, areas, reps, contacts, partnership members and notes.

Plain matching rather than full-text search: each kind is one query with a case-insensitive
LIKE (wildcards in the term escaped), ranked exact match first, then prefix, then contains,
limited to a page of hits with a window count of all matches. A contains match scans the
column, so each scan is kept narrow: notes by the event-kind index, members on the people
table (one row per person); its speed at 10× is in `make bench` (bench/search_speed.py). A
rep's search runs through the same visibility rules as their pages (`seen_by_rep`, their own
cases)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Select, String, case, cast, func, or_, select

from app.extensions import db
from app.models import Area, Case, CaseEvent, Contact, Person, RosterEntry, Snapshot, User
from app.queries.areas import seen_by_rep
from app.rules.vocabulary import EventKind, UserRole

logger = logging.getLogger(__name__)

MAX_QUERY = 100  # characters; longer input is refused, not cut
GROUP_LIMIT = 10  # hits shown per kind
NOTE_KIND = EventKind.NOTE  # the case event kind app.operations.case_actions.add_note records


class BadQuery(ValueError):
    """The search text cannot be used; the message says why."""


@dataclass(frozen=True)
class Hit:
    title: str
    detail: str = ""
    case_id: int | None = None
    area_code: str | None = None
    rep_id: int | None = None


@dataclass
class Group:
    kind: str
    title: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.hits))


@dataclass
class SearchResult:
    query: str
    groups: list[Group]

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups)


def clean_query(raw: str | None) -> str:
    """The search text, stripped; BadQuery when too long or holding control characters."""
    text = (raw or "").strip()
    if len(text) > MAX_QUERY:
        raise BadQuery(f"Search for at most {MAX_QUERY} characters (you typed {len(text)}).")
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text):
        raise BadQuery("Search text cannot hold control characters such as tabs or line breaks.")
    return text


def _rank(term: str, *columns):
    """0 for an exact match on any column, 1 for a prefix match, 2 otherwise."""
    lowered = [func.lower(c) for c in columns]
    return case(
        (or_(*(c == term for c in lowered)), 0),
        (or_(*(c.startswith(term, autoescape=True) for c in lowered)), 1),
        else_=2,
    )


def _contains(term: str, *columns):
    """`term` (lower case) anywhere in any column, ignoring case. SQLite's LIKE already ignores
    ASCII case, as its lower() does (neither folds other letters), so there the column is
    matched as it is: no function call per row on the scan."""
    if db.session.get_bind().dialect.name == "sqlite":
        return or_(*(c.contains(term, autoescape=True) for c in columns))
    return or_(*(func.lower(c).contains(term, autoescape=True) for c in columns))


def _page(query: Select) -> tuple[list, int]:
    """The first GROUP_LIMIT rows and the count of all matches (one statement)."""
    rows = db.session.execute(query.add_columns(func.count().over()).limit(GROUP_LIMIT)).all()
    return [row[:-1] for row in rows], (rows[0][-1] if rows else 0)


def _cases(term: str, viewer: User) -> Group:
    group = Group("cases", "Cases")
    number = term.removeprefix("#").strip()
    if not (number.isascii() and number.isdigit()) or len(number) > 12:
        return group
    as_text = cast(Case.id, String)
    rank = case((as_text == number, 0), else_=1)
    query = (
        select(Case.id, Case.status, Area.code, Area.name)
        .join(Area, Area.id == Case.area_id)
        .where(as_text.startswith(number))
        .order_by(rank, Case.id)
    )
    if not viewer.is_programme:
        query = query.where(Case.rep_id == viewer.id)
    rows, group.total = _page(query)
    group.hits = [
        Hit(f"Case #{cid}", f"{code} {name} · {status}", case_id=cid, area_code=code)
        for cid, status, code, name in rows
    ]
    return group


def _areas(term: str, viewer: User) -> Group:
    group = Group("areas", "Areas")
    query = (
        select(Area.code, Area.name)
        .where(_contains(term, Area.code, Area.name))
        .order_by(_rank(term, Area.code, Area.name), Area.code)
    )
    if not viewer.is_programme:
        query = query.where(seen_by_rep(viewer.id))
    rows, group.total = _page(query)
    group.hits = [Hit(f"{code} {name}", area_code=code) for code, name in rows]
    return group


def _reps(term: str, viewer: User) -> Group:
    group = Group("reps", "Reps")
    query = (
        select(User.id, User.name, User.email, User.active)
        .where(User.role == UserRole.REP, _contains(term, User.name, User.email))
        .order_by(_rank(term, User.name, User.email), User.name)
    )
    if not viewer.is_programme:
        # A rep finds themselves and the reps of the areas they see.
        area_reps = select(Area.rep_id).where(seen_by_rep(viewer.id))
        query = query.where(or_(User.id == viewer.id, User.id.in_(area_reps)))
    rows, group.total = _page(query)
    group.hits = [
        Hit(name, email + ("" if active else " · inactive"), rep_id=uid)
        for uid, name, email, active in rows
    ]
    return group


def _contacts(term: str, viewer: User) -> Group:
    group = Group("contacts", "Contacts")
    query = (
        select(Contact.name, Contact.email, Contact.opted_out, Area.code, Area.name)
        .join(Area, Area.id == Contact.area_id)
        .where(_contains(term, Contact.name, Contact.email))
        .order_by(_rank(term, Contact.name, Contact.email), Contact.name, Contact.id)
    )
    if not viewer.is_programme:
        query = query.where(seen_by_rep(viewer.id))
    rows, group.total = _page(query)
    group.hits = [
        Hit(
            name,
            f"{email} · {code} {area}" + (" · opted out" if opted_out else ""),
            area_code=code,
        )
        for name, email, opted_out, code, area in rows
    ]
    return group


def _members(term: str, viewer: User) -> Group:
    """People on any roster, by their latest name, with the area of each roster they sit on.

    A rep's search is narrowed to their areas first, so the (person, area) pairs are few and
    are paged and counted as they are. The programme team's is not: a common fragment can
    match most people, so it pages and counts the people (one row each; a roster line by
    index proves they sit on a partnership) and joins the rosters only for the page's
    people; a person on two partnerships is then counted once and listed with both."""
    group = Group("members", "Partnership members")
    if viewer.is_programme:
        sits = select(RosterEntry.id).where(RosterEntry.person_ref == Person.id).exists()
        people = (
            select(Person.id)
            .where(_contains(term, Person.name), sits)
            .order_by(_rank(term, Person.name), Person.name, Person.id)
        )
        found, group.total = _page(people)
        ids = [person_id for (person_id,) in found]
        pairs = _member_pairs(term).where(Person.id.in_(ids)).limit(GROUP_LIMIT)
        rows = [tuple(row) for row in db.session.execute(pairs)] if ids else []
    else:
        rows, group.total = _page(
            _member_pairs(term).where(_contains(term, Person.name), seen_by_rep(viewer.id))
        )
    group.hits = [Hit(person, f"{code} {area}", area_code=code) for person, code, area in rows]
    return group


def _member_pairs(term: str) -> Select:
    """Distinct (person, area) pairs of the roster lines, best name match first."""
    return (
        select(Person.name, Area.code, Area.name)
        .select_from(Person)
        .join(RosterEntry, RosterEntry.person_ref == Person.id)
        .join(Snapshot, Snapshot.id == RosterEntry.snapshot_id)
        .join(Area, Area.id == Snapshot.area_id)
        .group_by(Person.id, Person.name, Area.id, Area.code, Area.name)
        .order_by(_rank(term, Person.name), Person.name, Area.code)
    )


def _notes(term: str, viewer: User) -> Group:
    group = Group("notes", "Notes")
    query = (
        select(CaseEvent.case_id, CaseEvent.message, CaseEvent.created_at, Area.code)
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Area, Area.id == Case.area_id)
        .where(CaseEvent.kind == NOTE_KIND, _contains(term, CaseEvent.message))
        .order_by(_rank(term, CaseEvent.message), CaseEvent.created_at.desc(), CaseEvent.id)
    )
    if not viewer.is_programme:
        query = query.where(Case.rep_id == viewer.id)
    rows, group.total = _page(query)
    group.hits = [
        Hit(f"Case #{cid} · {code}", _snippet(message, term), case_id=cid, area_code=code)
        for cid, message, _created, code in rows
    ]
    return group


def _snippet(text: str, term: str, width: int = 80) -> str:
    """Up to `width` characters of `text` around the first match of `term`."""
    at = max(0, text.lower().find(term) - width // 3)
    piece = text[at : at + width]
    return ("…" if at else "") + piece + ("…" if at + width < len(text) else "")


KINDS = (_cases, _areas, _reps, _contacts, _members, _notes)


def search(raw: str | None, viewer: User) -> SearchResult:
    """Every kind's hits for the search text (BadQuery for unusable text; no groups if empty)."""
    text = clean_query(raw)
    if not text:
        return SearchResult("", [])
    term = text.lower()
    groups = [kind(term, viewer) for kind in KINDS]
    return SearchResult(text, [g for g in groups if g.total])


__all__ = ["GROUP_LIMIT", "MAX_QUERY", "BadQuery", "Group", "Hit", "SearchResult", "search"]
