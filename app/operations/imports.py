"""The three imports of docs/csv.md (areas, annual reviews, in-year updates).

Each is all-or-nothing: the whole file is checked first and every bad row reported; only a
clean file is written, in one transaction owned by the caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import select

from app.extensions import db
from app.models import Area, Contact, Person, RosterEntry, User
from app.models.cases import Case
from app.operations.assignment import set_area_rep
from app.operations.audit import record_audit
from app.operations.csvfile import (
    CsvFile,
    FileProblem,
    Problems,
    parse_date,
    parse_resident,
    parse_year,
    read_csv,
)
from app.operations.snapshots import EntryInput, SnapshotInput
from app.operations.text import column_length, text_problem
from app.rules.vocabulary import (
    MEMBER_ROLES,
    OPEN_STATUSES,
    AuditAction,
    SnapshotKind,
    UserRole,
)

AREA_COLUMNS = ("area_code", "area_name", "rep_email", "contact_name", "contact_email")
REVIEW_COLUMNS = ("area_code", "review_year", "person_id", "member_name", "resident", "role")
UPDATE_COLUMNS = ("area_code", "as_of", "person_id", "member_name", "resident", "role")
ROLE_LIST = ", ".join(MEMBER_ROLES)
ROLE_SET = frozenset(MEMBER_ROLES)
# Each text column of the files and the model column it is stored in (its size is the limit).
CELL_COLUMNS = {
    "area_code": Area.code,
    "area_name": Area.name,
    "rep_email": User.email,
    "contact_name": Contact.name,
    "contact_email": Contact.email,
    "person_id": Person.person_id,
    "member_name": RosterEntry.name,
}
CELL_SIZES = {name: column_length(column) for name, column in CELL_COLUMNS.items()}


class ImportRejected(Exception):
    """The file has problems; nothing was written. `problems.lines()` names each one."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class ParsedFile:
    warnings: list[str] = field(default_factory=list)
    rows: int = 0


def _read(data: bytes, required, optional=()) -> CsvFile:
    try:
        return read_csv(data, required, optional)
    except FileProblem as exc:
        raise ImportRejected(exc.problems) from None


def _warn_ignored(csv_file: CsvFile) -> list[str]:
    warnings = [f"column '{name}' is not used and was ignored" for name in csv_file.ignored]
    if csv_file.extra_cells:
        rows = [str(n) for n in csv_file.extra_cells[:10]]
        warnings.append(f"extra cells beyond the header were ignored (row {', '.join(rows)})")
    return warnings


def _bad_cells(row, problems: Problems) -> bool:
    """Report every cell of `row` holding a control character or too long for its column."""
    bad = False
    for name, value in row.values.items():
        problem = text_problem(value, CELL_SIZES.get(name))
        if problem:
            problems.add(row.number, name, problem)
            bad = True
    return bad


def _email(raw: str) -> str | None:
    from email_validator import EmailNotValidError, validate_email  # 20-40 ms: on first use

    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


# --------------------------------------------------------------------------- areas


@dataclass
class AreaRow:
    code: str
    name: str
    rep_email: str | None
    contacts: dict[str, str] = field(default_factory=dict)  # email -> name


@dataclass
class AreaImportSummary:
    areas_created: int = 0
    areas_updated: int = 0
    areas_unchanged: int = 0
    contacts_added: int = 0
    contacts_updated: int = 0
    reps_created: list[str] = field(default_factory=list)
    cases_reassigned: int = 0
    rows: int = 0
    warnings: list[str] = field(default_factory=list)


def parse_areas(data: bytes) -> tuple[list[AreaRow], list[str], int]:
    """Check an areas file; return its areas (in file order), warnings and row count."""
    csv_file = _read(data, AREA_COLUMNS[:2], AREA_COLUMNS[2:])
    problems = Problems()
    areas: dict[str, AreaRow] = {}
    first_row: dict[str, int] = {}
    for row in csv_file.rows:
        if _bad_cells(row, problems):
            continue
        code = _area_code(row, problems)
        if code is None:
            continue
        name = row["area_name"]
        if not name:
            problems.add(row.number, "area_name", "an area name is required")
        rep_email = _rep_email(row, problems)
        area = areas.get(code)
        if area is None:
            area = areas[code] = AreaRow(code, name, rep_email)
            first_row[code] = row.number
        else:
            _merge_area_row(area, row, rep_email, first_row[code], problems)
        _add_contact(area, row, problems)
    if problems:
        raise ImportRejected(problems)
    return list(areas.values()), _warn_ignored(csv_file), csv_file.count


def _area_code(row, problems: Problems) -> str | None:
    code = row["area_code"].upper()
    if not code:
        problems.add(row.number, "area_code", "an area code is required")
        return None
    if len(code) > 20 or not code.replace("-", "").isalnum():
        problems.add(row.number, "area_code", f"'{code}' is not an area code (e.g. BL001)")
        return None
    return code


def _rep_email(row, problems: Problems) -> str | None:
    rep_raw = row["rep_email"]
    rep_email = _email(rep_raw) if rep_raw else None
    if rep_raw and rep_email is None:
        problems.add(row.number, "rep_email", f"'{rep_raw}' is not an email address")
    return rep_email


def _merge_area_row(
    area: AreaRow, row, rep_email: str | None, first: int, problems: Problems
) -> None:
    """A further row of an area already met: the same name, the same rep (or none)."""
    name = row["area_name"]
    if name and area.name and name != area.name:
        problems.add(
            row.number,
            "area_name",
            f"'{name}' differs from '{area.name}' given for {area.code} at row {first}",
        )
    if rep_email and area.rep_email is None:
        area.rep_email = rep_email
    elif rep_email and rep_email != area.rep_email:
        problems.add(
            row.number,
            "rep_email",
            f"{area.code} already has rep {area.rep_email or '(none)'} at row {first}: an area"
            " has one rep",
        )


def _add_contact(area: AreaRow, row, problems: Problems) -> None:
    contact_name, contact_raw = row["contact_name"], row["contact_email"]
    if not contact_name and not contact_raw:
        return
    contact_email = _email(contact_raw) if contact_raw else None
    if not contact_raw:
        problems.add(row.number, "contact_email", "a contact needs an email address")
    elif contact_email is None:
        problems.add(row.number, "contact_email", f"'{contact_raw}' is not an email address")
    if not contact_name:
        problems.add(row.number, "contact_name", "a contact needs a name")
    if contact_email and contact_name:
        area.contacts[contact_email] = contact_name


@dataclass
class _AreaStore:
    """What storing an areas file reads once: users, areas, contacts and open cases."""

    now: datetime
    actor_id: int | None
    summary: AreaImportSummary
    users: dict[str, User]
    actor: User | None
    existing: dict[str, Area]
    contacts: dict[int, dict[str, Contact]]
    open_cases: dict[int, Case]

    @classmethod
    def load(cls, now: datetime, actor_id: int | None) -> _AreaStore:
        contacts: dict[int, dict[str, Contact]] = {}
        for stored in db.session.scalars(select(Contact)):
            contacts.setdefault(stored.area_id, {})[stored.email.lower()] = stored
        open_cases = db.session.scalars(select(Case).where(Case.status.in_(OPEN_STATUSES)))
        return cls(
            now=now,
            actor_id=actor_id,
            summary=AreaImportSummary(),
            users={u.email.lower(): u for u in db.session.scalars(select(User))},
            actor=db.session.get(User, actor_id) if actor_id is not None else None,
            existing={a.code: a for a in db.session.scalars(select(Area))},
            contacts=contacts,
            open_cases={c.area_id: c for c in open_cases},
        )

    def rep(self, email: str | None) -> User | None:
        """The area's rep: a known user, or a new rep account (no password)."""
        if not email:
            return None
        rep = self.users.get(email)
        if rep is not None:
            return rep
        rep = User(
            email=email, name=_name_from_email(email), role=UserRole.REP, created_at=self.now
        )
        db.session.add(rep)
        db.session.flush()
        self.users[email] = rep
        self.summary.reps_created.append(email)
        _audit(
            self.actor_id,
            AuditAction.USER_CREATED,
            "user",
            rep.id,
            f"Rep {rep.email} created by the areas import",
            self.now,
        )
        return rep

    def area(self, row: AreaRow, rep: User | None) -> Area:
        """Create the area, or bring its name and rep up to date."""
        summary, now = self.summary, self.now
        area = self.existing.get(row.code)
        if area is None:
            area = Area(code=row.code, name=row.name, rep=rep, created_at=now, current_reasons=[])
            db.session.add(area)
            db.session.flush()
            self.existing[row.code] = area
            summary.areas_created += 1
            _audit(
                self.actor_id,
                AuditAction.AREA_CREATED,
                "area",
                area.id,
                f"Area {row.code} imported",
                now,
            )
            return area
        changed = area.name != row.name
        if changed:
            area.name = row.name
        if area.rep_id != (rep.id if rep else None):
            changed = True
            change = set_area_rep(
                area,
                rep,
                actor=self.actor,
                now=now,
                open_case=self.open_cases.get(area.id),
                via="areas import",
            )
            summary.cases_reassigned += change.case_event is not None
        if changed:
            summary.areas_updated += 1
        else:
            summary.areas_unchanged += 1
        return area

    def contacts_of(self, area: Area, row: AreaRow) -> None:
        known = self.contacts.setdefault(area.id, {})
        for email, name in row.contacts.items():
            contact = known.get(email)
            if contact is None:
                known[email] = Contact(area_id=area.id, name=name, email=email)
                db.session.add(known[email])
                self.summary.contacts_added += 1
            elif contact.name != name:
                contact.name = name
                self.summary.contacts_updated += 1


def store_areas(
    rows: list[AreaRow], *, now: datetime, actor_id: int | None = None
) -> AreaImportSummary:
    """Create or update areas, their contacts and rep users (reps without a password)."""
    store = _AreaStore.load(now, actor_id)
    for row in rows:
        area = store.area(row, store.rep(row.rep_email))
        store.contacts_of(area, row)
    db.session.flush()
    return store.summary


def _name_from_email(email: str) -> str:
    local = email.split("@", 1)[0].replace(".", " ").replace("_", " ").replace("-", " ")
    return " ".join(part.capitalize() for part in local.split()) or email


def _audit(actor_id, action, target_type, target_id, message, now) -> None:
    record_audit(
        action, message, target_type=target_type, target_id=target_id, now=now, actor_id=actor_id
    )


# --------------------------------------------------------------------------- snapshots


@dataclass
class _Group:
    """The rows of one snapshot of the file: its date, where it was first given, its entries
    by person (with the row each came from)."""

    effective: date
    row: int
    explicit: bool  # the date was given (review_date), not the review year's default
    entries: dict[str, tuple[int, EntryInput]] = field(default_factory=dict)


def parse_snapshots(
    data: bytes,
    kind: str,
    known_areas: set[str],
    progress: Callable[[int], None] | None = None,
) -> tuple[list[SnapshotInput], list[str], int]:
    """Check an annual-reviews (`kind='annual'`) or in-year-updates (`'update'`) file."""
    if kind == SnapshotKind.ANNUAL:
        csv_file = _read(data, REVIEW_COLUMNS, ("review_date",))
    else:
        csv_file = _read(data, UPDATE_COLUMNS)
    problems = Problems()
    groups: dict[tuple, _Group] = {}
    for done, row in enumerate(csv_file.rows, 1):
        if progress and done % 5000 == 0:
            progress(5000)
        if _bad_cells(row, problems):
            continue
        identity = _snapshot_identity(row, kind, known_areas, problems)
        entry = _entry(row, problems)
        if identity is not None and entry is not None:
            _add_to_group(groups, row, kind, identity, entry, problems)
    if progress:
        progress(csv_file.count % 5000)
    if problems:
        raise ImportRejected(problems)
    inputs = [
        SnapshotInput(
            area_code=code,
            kind=kind,
            review_year=year,
            effective_on=group.effective,
            entries=tuple(entry for _, entry in group.entries.values()),
        )
        for (code, year, _), group in groups.items()
    ]
    return inputs, _warn_ignored(csv_file), csv_file.count


def _add_to_group(
    groups: dict[tuple, _Group],
    row,
    kind: str,
    identity: tuple[str, int | None, date],
    entry: EntryInput,
    problems: Problems,
) -> None:
    """File the row's entry under its snapshot: one date per review, one row per person."""
    code, year, effective = identity
    annual = kind == SnapshotKind.ANNUAL
    key = (code, year, None if annual else effective)
    group = groups.get(key)
    if group is None:
        group = groups[key] = _Group(effective, row.number, bool(row["review_date"]))
    elif annual and row["review_date"] and effective != group.effective:
        if group.explicit:
            problems.add(
                row.number,
                "review_date",
                f"{effective.isoformat()} differs from {group.effective.isoformat()} given"
                f" for the {code} {year} review at row {group.row}",
            )
            return
        group.effective, group.explicit = effective, True
    if entry.person_id in group.entries:
        first = group.entries[entry.person_id][0]
        what = (
            f"the {code} {year} review"
            if annual
            else f"the {code} update of {effective.isoformat()}"
        )
        problems.add(
            row.number,
            "person_id",
            f"person {entry.person_id} appears twice in {what} (first at row {first})",
        )
        return
    group.entries[entry.person_id] = (row.number, entry)


@lru_cache(maxsize=256)
def _review_day(year: int) -> date:
    return date(year, 9, 30)


def _snapshot_identity(row, kind, known_areas, problems) -> tuple[str, int | None, date] | None:
    code = row["area_code"].upper()
    ok = True
    if not code:
        problems.add(row.number, "area_code", "an area code is required")
        ok = False
    elif code not in known_areas:
        problems.add(
            row.number, "area_code", f"unknown area '{code}' (import it with the areas file first)"
        )
        ok = False
    if kind == SnapshotKind.ANNUAL:
        year = parse_year(row["review_year"])
        if year is None:
            problems.add(
                row.number, "review_year", f"'{row['review_year']}' is not a year (e.g. 2021)"
            )
            return None
        effective = _review_day(year)
        if row["review_date"]:
            given = parse_date(row["review_date"])
            if given is None:
                problems.add(
                    row.number, "review_date", f"'{row['review_date']}' is not a date (YYYY-MM-DD)"
                )
                return None
            if not (year <= given.year <= year + 1):
                problems.add(
                    row.number,
                    "review_date",
                    f"{given.isoformat()} is not in or just after review year {year}",
                )
                return None
            effective = given
        return (code, year, effective) if ok else None
    as_of = parse_date(row["as_of"])
    if as_of is None:
        problems.add(row.number, "as_of", f"'{row['as_of']}' is not a date (YYYY-MM-DD)")
        return None
    return (code, None, as_of) if ok else None


def _entry(row, problems) -> EntryInput | None:
    values = row.values
    person_id = values.get("person_id", "")
    name = values.get("member_name", "")
    resident = parse_resident(values.get("resident", ""))
    role = values.get("role", "").lower()
    if role not in ROLE_SET:
        role = role.replace(" ", "_").replace("-", "_")
    if person_id and len(person_id) <= 64 and name and resident is not None and role in ROLE_SET:
        return EntryInput(person_id, name, resident, role)
    if not person_id:
        problems.add(row.number, "person_id", "a person id is required")
    elif len(person_id) > 64:
        problems.add(row.number, "person_id", "a person id has at most 64 characters")
    if not name:
        problems.add(row.number, "member_name", "a member name is required")
    if resident is None:
        problems.add(
            row.number,
            "resident",
            f"'{row['resident']}' is not yes/no (yes, no, y, n, true, false, 1, 0)",
        )
    if role not in ROLE_SET:
        problems.add(row.number, "role", f"unknown role '{row['role']}' (one of: {ROLE_LIST})")
    return None


def known_area_codes() -> set[str]:
    return set(db.session.scalars(select(Area.code)))
