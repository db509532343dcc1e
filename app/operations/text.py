"""What text from a user (a form field, an import cell) may hold: the one check used at every
edge, so nothing unprintable reaches the database or a mail header and nothing outgrows its
column (see docs/security.md)."""

from __future__ import annotations

import re

from sqlalchemy.orm import InstrumentedAttribute

# C0 controls, DEL and C1 controls. Tab and newlines are allowed only in multi-line text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The largest id any route or form accepts: PostgreSQL's INTEGER (SQLite's is wider).
MAX_ID = 2**31 - 1


def column_length(column: InstrumentedAttribute) -> int:
    """The size of a model's VARCHAR column (e.g. `Area.name` -> 200)."""
    length = getattr(column.property.columns[0].type, "length", None)
    if length is None:
        raise TypeError(f"{column} has no length")
    return length


def text_problem(value: str, max_length: int | None = None, multiline: bool = False) -> str | None:
    """Why `value` may not be stored as text, in words for its author; None when it may."""
    pattern = _CONTROL if multiline else _CONTROL_OR_NEWLINE
    if pattern.search(value):
        return (
            "contains a control character (such as a NUL byte or line break)"
            if not multiline
            else "contains a control character (such as a NUL byte)"
        )
    if max_length is not None and len(value) > max_length:
        return f"is too long: at most {max_length} characters ({len(value)} given)"
    return None


def without_controls(value: str) -> str:
    """`value` with every control character (line breaks included) turned into a space: for a
    mail header, which must never carry one."""
    return " ".join(_CONTROL_OR_NEWLINE.sub(" ", value).split())


def parse_count(raw: object, maximum: int = MAX_ID, minimum: int = 1) -> int | None:
    """A whole number in ASCII digits from `minimum` to `maximum` (an id, a page, a version);
    None for anything else (`'²'.isdigit()` is true, but int('²') fails)."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    number = int(raw)
    return number if minimum <= number <= maximum else None
