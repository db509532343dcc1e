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
from app.rules.vocabulary import MEMBER_ROLES, OPEN_STATUSES

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
        code = row["area_code"].upper()
        name = row["area_name"]
        if not code:
            problems.add(row.number, "area_code", "an area code is required")
            continue
        if len(code) > 20 or not code.replace("-", "").isalnum():
            problems.add(row.number, "area_code", f"'{code}' is not an area code (e.g. BL001)")
            continue
        if not name:
            problems.add(row.number, "area_name", "an area name is required")
        rep_raw = row["rep_email"]
        rep_email = _email(rep_raw) if rep_raw else None
        if rep_raw and rep_email is None:
            problems.add(row.number, "rep_email", f"'{rep_raw}' is not an email address")
        area = areas.get(code)
        if area is None:
            area = areas[code] = AreaRow(code, name, rep_email)
            first_row[code] = row.number
        else:
            if name and area.name and name != area.name:
                problems.add(
                    row.number,
                    "area_name",
                    f"'{name}' differs from '{area.name}' given for {code} at row"
                    f" {first_row[code]}",
                )
            if rep_email and area.rep_email is None:
                area.rep_email = rep_email
            elif rep_email and rep_email != area.rep_email:
                problems.add(
                    row.number,
                    "rep_email",
                    f"{code} already has rep {area.rep_email or '(none)'} at row"
                    f" {first_row[code]}: an area has one rep",
                )
        contact_name, contact_raw = row["contact_name"], row["contact_email"]
        if contact_name or contact_raw:
            contact_email = _email(contact_raw) if contact_raw else None
            if not contact_raw:
                problems.add(row.number, "contact_email", "a contact needs an email address")
            elif contact_email is None:
                problems.add(
                    row.number, "contact_email", f"'{contact_raw}' is not an email address"
                )
            if not contact_name:
                problems.add(row.number, "contact_name", "a contact needs a name")
            if contact_email and contact_name:
                area.contacts[contact_email] = contact_name
    if problems:
        raise ImportRejected(problems)
    return list(areas.values()), _warn_ignored(csv_file), csv_file.count


def store_areas(
    rows: list[AreaRow], *, now: datetime, actor_id: int | None = None
) -> AreaImportSummary:
    """Create or update areas, their contacts and rep users (reps without a password)."""
    summary = AreaImportSummary()
    users = {u.email.lower(): u for u in db.session.scalars(select(User))}
    actor = db.session.get(User, actor_id) if actor_id is not None else None
    existing = {a.code: a for a in db.session.scalars(select(Area))}
    contacts: dict[int, dict[str, Contact]] = {}
    for contact in db.session.scalars(select(Contact)):
        contacts.setdefault(contact.area_id, {})[contact.email.lower()] = contact
    open_cases = {
        c.area_id: c for c in db.session.scalars(select(Case).where(Case.status.in_(OPEN_STATUSES)))
    }
    for row in rows:
        rep = None
        if row.rep_email:
            rep = users.get(row.rep_email)
            if rep is None:
                rep = User(
                    email=row.rep_email,
                    name=_name_from_email(row.rep_email),
                    role="rep",
                    created_at=now,
                )
                db.session.add(rep)
                db.session.flush()
                users[row.rep_email] = rep
                summary.reps_created.append(row.rep_email)
                _audit(
                    actor_id,
                    "user_created",
                    "user",
                    rep.id,
                    f"Rep {rep.email} created by the areas import",
                    now,
                )
        area = existing.get(row.code)
        if area is None:
            area = Area(code=row.code, name=row.name, rep=rep, created_at=now, current_reasons=[])
            db.session.add(area)
            db.session.flush()
            existing[row.code] = area
            summary.areas_created += 1
            _audit(actor_id, "area_created", "area", area.id, f"Area {row.code} imported", now)
        else:
            changed = False
            if area.name != row.name:
                area.name = row.name
                changed = True
            if area.rep_id != (rep.id if rep else None):
                changed = True
                change = set_area_rep(
                    area,
                    rep,
                    actor=actor,
                    now=now,
                    open_case=open_cases.get(area.id),
                    via="areas import",
                )
                summary.cases_reassigned += change.case_event is not None
            if changed:
                summary.areas_updated += 1
            else:
                summary.areas_unchanged += 1
        known = contacts.setdefault(area.id, {})
        for email, name in row.contacts.items():
            contact = known.get(email)
            if contact is None:
                contact = Contact(area_id=area.id, name=name, email=email)
                db.session.add(contact)
                known[email] = contact
                summary.contacts_added += 1
            elif contact.name != name:
                contact.name = name
                summary.contacts_updated += 1
    db.session.flush()
    return summary


def _name_from_email(email: str) -> str:
    local = email.split("@", 1)[0].replace(".", " ").replace("_", " ").replace("-", " ")
    return " ".join(part.capitalize() for part in local.split()) or email


def _audit(actor_id, action, target_type, target_id, message, now) -> None:
    record_audit(
        action, message, target_type=target_type, target_id=target_id, now=now, actor_id=actor_id
    )


# --------------------------------------------------------------------------- snapshots


def parse_snapshots(
    data: bytes,
    kind: str,
    known_areas: set[str],
    progress: Callable[[int], None] | None = None,
) -> tuple[list[SnapshotInput], list[str], int]:
    """Check an annual-reviews (`kind='annual'`) or in-year-updates (`'update'`) file."""
    if kind == "annual":
        csv_file = _read(data, REVIEW_COLUMNS, ("review_date",))
    else:
        csv_file = _read(data, UPDATE_COLUMNS)
    problems = Problems()
    groups: dict[tuple, dict] = {}
    for done, row in enumerate(csv_file.rows, 1):
        if progress and done % 5000 == 0:
            progress(5000)
        if _bad_cells(row, problems):
            continue
        identity = _snapshot_identity(row, kind, known_areas, problems)
        entry = _entry(row, problems)
        if identity is None or entry is None:
            continue
        code, year, effective = identity
        group = groups.get((code, year, effective if kind == "update" else None))
        if group is None:
            group = {
                "effective": effective,
                "row": row.number,
                "explicit": bool(row["review_date"]),
                "entries": {},
            }
            groups[(code, year, effective if kind == "update" else None)] = group
        elif kind == "annual" and row["review_date"] and effective != group["effective"]:
            if group["explicit"]:
                problems.add(
                    row.number,
                    "review_date",
                    f"{effective.isoformat()} differs from {group['effective'].isoformat()} given"
                    f" for the {code} {year} review at row {group['row']}",
                )
                continue
            group["effective"], group["explicit"] = effective, True
        if entry.person_id in group["entries"]:
            first = group["entries"][entry.person_id][0]
            what = (
                f"the {code} {year} review"
                if kind == "annual"
                else f"the {code} update of {effective.isoformat()}"
            )
            problems.add(
                row.number,
                "person_id",
                f"person {entry.person_id} appears twice in {what} (first at row {first})",
            )
            continue
        group["entries"][entry.person_id] = (row.number, entry)
    if progress:
        progress(csv_file.count % 5000)
    if problems:
        raise ImportRejected(problems)
    inputs = [
        SnapshotInput(
            area_code=code,
            kind=kind,
            review_year=year,
            effective_on=group["effective"],
            entries=tuple(entry for _, entry in group["entries"].values()),
        )
        for (code, year, _), group in groups.items()
    ]
    return inputs, _warn_ignored(csv_file), csv_file.count


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
    if kind == "annual":
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
    effective = parse_date(row["as_of"])
    if effective is None:
        problems.add(row.number, "as_of", f"'{row['as_of']}' is not a date (YYYY-MM-DD)")
        return None
    return (code, None, effective) if ok else None


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
