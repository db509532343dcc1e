"""Search from the header box: cases, areas, reps, contacts, partnership members and notes.

Plain matching rather than full-text search: each kind is one query for the term anywhere in
its columns, ignoring case (wildcards match literally), ranked exact match first, then prefix,
then contains (notes newest first), limited to a page of hits and a count of the matches that
stops at COUNT_LIMIT. The match is found through the search's indexes
(app.models.search_index), not by reading every row: on PostgreSQL trigram GIN indexes under
`lower(col) LIKE`, on SQLite FTS5 trigram tables. Trigrams need three characters, so a term of
one or two characters matches the start of a column only (a name, code or email beginning
with it, through the same GIN index or a NOCASE index), and notes are searched from three
characters. A rep's search runs through the same visibility rules as their pages
(`seen_by_rep`, their own cases), starting from their own rows. The time of a common term
still grows with its matches (each is ranked to find the best ten); a rare term's does not.
Its speed at 10× and 30× is in `make bench` (bench/search_speed.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    case,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
)

from app.extensions import db
from app.models import Area, Case, CaseEvent, Contact, Person, RosterEntry, Snapshot, User
from app.models.search_index import NOTES_TABLE, fts_table
from app.queries.areas import areas_seen_by_rep, seen_by_rep
from app.rules.vocabulary import EventKind, UserRole

logger = logging.getLogger(__name__)

MAX_QUERY = 100  # characters; longer input is refused, not cut
GROUP_LIMIT = 10  # hits shown per kind
COUNT_LIMIT = 1000  # matches counted per kind; a group with more says "more than 1,000"
NOTE_KIND = EventKind.NOTE  # the case event kind app.operations.case_actions.add_note records
SHORT = 3  # a term shorter than this matches the start of a column only (trigrams need 3)
MAX_ID = 2**31 - 1  # case ids are 32-bit integers


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
    def capped(self) -> bool:
        """More match than were counted (COUNT_LIMIT)."""
        return self.total > COUNT_LIMIT

    @property
    def counted(self) -> str:
        return f"{COUNT_LIMIT:,}+" if self.capped else f"{self.total:,}"

    @property
    def more(self) -> int:
        return max(0, min(self.total, COUNT_LIMIT) - len(self.hits))


@dataclass
class SearchResult:
    query: str
    groups: list[Group]

    @property
    def short(self) -> bool:
        """The term is too short to match inside words or to search notes."""
        return 0 < len(self.query) < SHORT

    @property
    def total(self) -> int:
        return sum(min(g.total, COUNT_LIMIT) for g in self.groups)

    @property
    def capped(self) -> bool:
        return any(g.capped for g in self.groups)


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
        (or_(*(c.like(_escaped(term) + "%", escape="/") for c in lowered)), 1),
        else_=2,
    )


def _escaped(term: str) -> str:
    return term.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _matches(term: str, model, *columns, indexed: bool = True):
    """`term` (lower case) in any of the model's columns, ignoring case: anywhere for a term
    of three characters or more, at the start for a shorter one.

    Indexed (the programme team's search, over every row): on PostgreSQL `lower(col) LIKE`
    with a bound pattern, which the trigram GIN index on `lower(col)` serves either way; on
    SQLite, for a long term, the rows of the model's FTS5 trigram table holding it as a phrase
    (a substring, case folded), and for a short one `col LIKE 'te%'`, served by the column's
    NOCASE index (SQLite's LIKE ignores ASCII case; the pattern is bound whole, so the LIKE
    optimisation applies). Not indexed (a rep's search, over the few rows of their own areas
    and cases, found first): the same match tested on those rows, in a form the search's
    indexes do not serve, so the planner starts from the rep's rows rather than from every
    match of a common term."""
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    pattern = ("" if len(term) < SHORT else "%") + _escaped(term) + "%"
    if sqlite and indexed and len(term) >= SHORT:
        return model.id.in_(_fts_rows(fts_table(model.__tablename__), term))
    if sqlite:
        return or_(*(c.like(pattern, escape="/") for c in columns))
    if indexed:
        return or_(*(func.lower(c).like(pattern, escape="/") for c in columns))
    return or_(*(c.ilike(pattern, escape="/") for c in columns))


def _fts_rows(name: str, term: str) -> Select:
    """Rowids of an FTS5 trigram table holding `term` (three characters or more)."""
    phrase = '"' + term.replace('"', '""') + '"'
    fts = table(name, column("rowid"))
    return select(fts.c.rowid).where(literal_column(name).op("MATCH")(phrase))


def _page(matched: Select, show: Callable[[Subquery], Select]) -> tuple[list, int]:
    """The best GROUP_LIMIT rows of a kind and how many match, in one statement.

    `matched` selects the key and order columns of the matching rows, best first, reading
    only what the match and the viewer's visibility need; the page is cut there and `show`
    joins what the page displays for those rows alone. The count stops at COUNT_LIMIT + 1, so
    neither the display joins nor the count read every match of a common term."""
    top = matched.limit(GROUP_LIMIT).subquery("top")
    counted = matched.order_by(None).limit(COUNT_LIMIT + 1).subquery("counted")
    total = select(func.count()).select_from(counted).scalar_subquery()
    rows = db.session.execute(show(top).add_columns(total)).all()
    return [tuple(row[:-1]) for row in rows], (rows[0][-1] if rows else 0)


def _cases(term: str, viewer: User) -> Group:
    group = Group("cases", "Cases")
    number = term.removeprefix("#").strip()
    if not (number.isascii() and number.isdigit()) or len(number) > 12:
        return group
    # The exact number first: it is the lowest id that starts with its own digits. Ordered by
    # `id + 0`, so the ranges are read by the primary key and then sorted, not found by a walk
    # of every case in id order (SQLite's choice for a plain ORDER BY id).
    matched = select(Case.id).where(_numbers_starting(number)).order_by(Case.id + 0)
    if not viewer.is_programme:
        matched = matched.where(Case.rep_id == viewer.id)
    rows, group.total = _page(
        matched,
        lambda top: (
            select(Case.id, Case.status, Area.code, Area.name)
            .join_from(top, Case, Case.id == top.c.id)
            .join(Area, Area.id == Case.area_id)
            .order_by(Case.id)
        ),
    )
    group.hits = [
        Hit(f"Case #{cid}", f"{code} {name} · {status}", case_id=cid, area_code=code)
        for cid, status, code, name in rows
    ]
    return group


def _numbers_starting(number: str):
    """Case ids whose decimal digits start with `number`: 12 is 12, 120–129, 1200–1299…, as
    ranges on the primary key rather than a cast of every id to text."""
    if number.startswith("0"):
        return false()
    ranges, low, width = [], int(number), 1
    while low <= MAX_ID:
        ranges.append(Case.id.between(low, min(low + width - 1, MAX_ID)))
        low, width = low * 10, width * 10
    return or_(*ranges) if ranges else false()


def _areas(term: str, viewer: User) -> Group:
    group = Group("areas", "Areas")
    rank = _rank(term, Area.code, Area.name).label("rank")
    matched = (
        select(Area.id, rank, Area.code)
        .where(_matches(term, Area, Area.code, Area.name, indexed=viewer.is_programme))
        .order_by(rank, Area.code)
    )
    if not viewer.is_programme:
        matched = matched.where(seen_by_rep(viewer.id))
    rows, group.total = _page(
        matched,
        lambda top: (
            select(Area.code, Area.name)
            .join_from(top, Area, Area.id == top.c.id)
            .order_by(top.c.rank, top.c.code)
        ),
    )
    group.hits = [Hit(f"{code} {name}", area_code=code) for code, name in rows]
    return group


def _reps(term: str, viewer: User) -> Group:
    group = Group("reps", "Reps")
    rank = _rank(term, User.name, User.email).label("rank")
    matched = (
        select(User.id, rank, User.name)
        .where(User.role == UserRole.REP, _matches(term, User, User.name, User.email))
        .order_by(rank, User.name, User.id)
    )
    if not viewer.is_programme:
        # A rep finds themselves and the reps of the areas they see.
        area_reps = select(Area.rep_id).where(seen_by_rep(viewer.id))
        matched = matched.where(or_(User.id == viewer.id, User.id.in_(area_reps)))
    rows, group.total = _page(
        matched,
        lambda top: (
            select(User.id, User.name, User.email, User.active)
            .join_from(top, User, User.id == top.c.id)
            .order_by(top.c.rank, top.c.name, top.c.id)
        ),
    )
    group.hits = [
        Hit(name, email + ("" if active else " · inactive"), rep_id=uid)
        for uid, name, email, active in rows
    ]
    return group


def _contacts(term: str, viewer: User) -> Group:
    group = Group("contacts", "Contacts")
    rank = _rank(term, Contact.name, Contact.email).label("rank")
    matched = (
        select(Contact.id, rank, Contact.name)
        .where(_matches(term, Contact, Contact.name, Contact.email, indexed=viewer.is_programme))
        .order_by(rank, Contact.name, Contact.id)
    )
    if not viewer.is_programme:
        matched = matched.where(Contact.area_id.in_(areas_seen_by_rep(viewer.id)))
    rows, group.total = _page(
        matched,
        lambda top: (
            select(Contact.name, Contact.email, Contact.opted_out, Area.code, Area.name)
            .join_from(top, Contact, Contact.id == top.c.id)
            .join(Area, Area.id == Contact.area_id)
            .order_by(top.c.rank, top.c.name, top.c.id)
        ),
    )
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
    rank = _rank(term, Person.name).label("rank")
    if viewer.is_programme:
        sits = select(RosterEntry.id).where(RosterEntry.person_ref == Person.id).exists()
        people = (
            select(Person.id, rank, Person.name)
            .where(_matches(term, Person, Person.name), sits)
            .order_by(rank, Person.name, Person.id)
        )
        found, group.total = _page(
            people, lambda top: select(top.c.id).order_by(top.c.rank, top.c.name, top.c.id)
        )
        ids = [person_id for (person_id,) in found]
        pairs = _member_pairs(term).where(Person.id.in_(ids)).limit(GROUP_LIMIT)
        rows = [tuple(row) for row in db.session.execute(pairs)] if ids else []
    else:
        pairs = (
            _member_pairs(term)
            .add_columns(rank)
            .where(_matches(term, Person, Person.name, indexed=False), seen_by_rep(viewer.id))
        )
        rows, group.total = _page(
            pairs,
            lambda top: select(top.c.person, top.c.code, top.c.area).order_by(
                top.c.rank, top.c.person, top.c.code
            ),
        )
    group.hits = [Hit(person, f"{code} {area}", area_code=code) for person, code, area in rows]
    return group


def _member_pairs(term: str) -> Select:
    """Distinct (person, area) pairs of the roster lines, best name match first."""
    return (
        select(Person.name.label("person"), Area.code.label("code"), Area.name.label("area"))
        .select_from(Person)
        .join(RosterEntry, RosterEntry.person_ref == Person.id)
        .join(Snapshot, Snapshot.id == RosterEntry.snapshot_id)
        .join(Area, Area.id == Snapshot.area_id)
        .group_by(Person.id, Person.name, Area.id, Area.code, Area.name)
        .order_by(_rank(term, Person.name), Person.name, Area.code)
    )


def _notes(term: str, viewer: User) -> Group:
    group = Group("notes", "Notes")
    if len(term) < SHORT:
        return group
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    pattern = "%" + _escaped(term) + "%"
    found: ColumnElement[bool] | None
    if not viewer.is_programme:
        # A rep's notes are read through their own cases (few), not found in the index.
        theirs = select(Case.id).where(Case.rep_id == viewer.id)
        match = CaseEvent.message.like if sqlite else CaseEvent.message.ilike
        found = CaseEvent.case_id.in_(theirs) & match(pattern, escape="/")
    elif sqlite:
        found = CaseEvent.id.in_(_fts_rows(NOTES_TABLE, term))
    else:
        found = None
    # Newest first: where a note sits in its case's story says more than how closely its
    # words match (a note is rarely the term alone), and no match needs a rank computed.
    if found is not None:
        matched = (
            select(CaseEvent.id, CaseEvent.created_at)
            .where(CaseEvent.kind == NOTE_KIND, found)
            .order_by(CaseEvent.created_at.desc(), CaseEvent.id)
        )
    else:
        # PostgreSQL, every note: the matches are found through the partial trigram index
        # (the kind a literal, so the planner knows it applies) and only then sorted. Left to
        # itself the planner walks the notes newest first testing each, which for a rare term
        # reads every note.
        hits = (
            select(CaseEvent.id, CaseEvent.created_at)
            .where(
                CaseEvent.kind == literal_column(f"'{NOTE_KIND.value}'"),
                func.lower(CaseEvent.message).like(pattern, escape="/"),
            )
            .cte("note_hits")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        matched = select(hits.c.id, hits.c.created_at).order_by(hits.c.created_at.desc(), hits.c.id)
    rows, group.total = _page(
        matched,
        lambda top: (
            select(CaseEvent.case_id, CaseEvent.message, Area.code)
            .join_from(top, CaseEvent, CaseEvent.id == top.c.id)
            .join(Case, Case.id == CaseEvent.case_id)
            .join(Area, Area.id == Case.area_id)
            .order_by(top.c.created_at.desc(), top.c.id)
        ),
    )
    group.hits = [
        Hit(f"Case #{cid} · {code}", _snippet(message, term), case_id=cid, area_code=code)
        for cid, message, code in rows
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


__all__ = [
    "COUNT_LIMIT",
    "GROUP_LIMIT",
    "MAX_QUERY",
    "BadQuery",
    "Group",
    "Hit",
    "SearchResult",
    "search",
]
