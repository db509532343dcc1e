"""Reading the import CSV files (docs/csv.md): UTF-8 (a BOM tolerated), a header row, free column
order. Problems are collected as `row N, column C: reason` (the header is row 1) so a file with
several bad rows is reported in one go."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

YES = {"yes", "y", "true", "1"}
# More problems than this (a screenful) are summed up per reason instead of listed.
SHOWN_PROBLEMS = 100
_QUOTED = re.compile(r"'[^']*'")
# Codes, years, dates and row numbers (not the single digits of "1, 0" in a list of choices).
_WITH_DIGITS = re.compile(r"(?<=row )\d+|\b(?=[\w.-]*\d)[\w.-]{2,}\b")
NO = {"no", "n", "false", "0"}


@dataclass(frozen=True)
class Problem:
    row: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"

    @property
    def kind(self) -> str:
        """The reason without the cell's own value: rows refused alike count together."""
        reason = _WITH_DIGITS.sub("…", _QUOTED.sub("'…'", self.reason))
        return f"column {self.column}: {reason}" if self.column else reason


@dataclass
class Problems:
    items: list[Problem] = field(default_factory=list)

    def add(self, row: int, column: str | None, reason: str) -> None:
        self.items.append(Problem(row, column, reason))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def lines(self) -> list[str]:
        return [str(p) for p in sorted(self.items, key=lambda p: (p.row, p.column or ""))]

    def report(self, limit: int = SHOWN_PROBLEMS) -> ProblemReport:
        """The first `limit` problems in file order and, when there are more, a count per
        reason: what the CLI prints and the web import shows (the same words in both)."""
        ordered = sorted(self.items, key=lambda p: (p.row, p.column or ""))
        shown = [str(p) for p in ordered[:limit]]
        if len(ordered) <= limit:
            return ProblemReport(shown, [], len(ordered))
        per_reason = Counter(p.kind for p in ordered)
        tail = [
            f"… and {len(ordered) - limit:,} more ({len(ordered):,} problems in all). "
            f"Problems per reason:"
        ]
        tail += [f"{n:,} × {kind}" for kind, n in per_reason.most_common()]
        return ProblemReport(shown, tail, len(ordered))


@dataclass(frozen=True)
class ProblemReport:
    """`shown`: the first problems, one line each; `tail`: the count per reason of all."""

    shown: list[str]
    tail: list[str]
    total: int

    def lines(self) -> list[str]:
        return self.shown + self.tail


class FileProblem(Exception):
    """The file as a whole cannot be read (not UTF-8, empty, missing columns)."""

    def __init__(self, problems: Problems) -> None:
        super().__init__("; ".join(problems.lines()))
        self.problems = problems


class Row:
    """One data row: its line number in the file (the header being 1) and its cells."""

    __slots__ = ("number", "values")

    def __init__(self, number: int, values: dict[str, str]) -> None:
        self.number = number
        self.values = values

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class CsvFile:
    """The header, and the rows as an iterator (read once: a 200,000-row file is not held
    in memory as rows). `count` and `extra_cells` are filled in as the rows are read."""

    columns: list[str]
    ignored: list[str]
    rows: Iterator[Row]
    count: int = 0
    extra_cells: list[int] = field(default_factory=list)


def decode(data: bytes) -> str:
    """The text of a UTF-8 file, or a FileProblem naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems = Problems()
        problems.add(
            line,
            None,
            f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} cannot be read); "
            "save it as 'CSV UTF-8' and try again",
        )
        raise FileProblem(problems) from None


def read_csv(data: bytes, required: Sequence[str], optional: Sequence[str] = ()) -> CsvFile:
    """Parse the file; check the header has every required column."""
    text = decode(data)
    if not text.strip():
        problems = Problems()
        problems.add(1, None, "the file is empty: a header row is required")
        raise FileProblem(problems)
    nul = text.find("\x00")
    if nul >= 0:  # the csv module cannot read past one; no cell may hold one anyway
        problems = Problems()
        line = text.count("\n", 0, nul) + 1
        problems.add(line, None, "contains a NUL byte (a control character)")
        raise FileProblem(problems)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader)]
    problems = Problems()
    for column in required:
        if column not in header:
            problems.add(1, column, "missing required column")
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            problems.add(1, name, "the column appears twice in the header")
        seen.add(name)
    if problems:
        raise FileProblem(problems)
    known = set(required) | set(optional)
    ignored = [name for name in header if name not in known]
    csv_file = CsvFile(columns=header, ignored=ignored, rows=iter(()))
    csv_file.rows = _rows(reader, header, csv_file)
    return csv_file


def _rows(reader, header: list[str], csv_file: CsvFile) -> Iterator[Row]:
    previous_end = reader.line_num
    width = len(header)
    for record in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        cells = [cell.strip() for cell in record]
        if not any(cells):
            continue  # blank lines are not rows
        csv_file.count += 1
        if len(cells) > width:
            csv_file.extra_cells.append(start)
        yield Row(start, dict(zip(header, cells, strict=False)))


_RESIDENT = {**{word: True for word in YES}, **{word: False for word in NO}}


def parse_resident(raw: str) -> bool | None:
    return _RESIDENT.get(raw.strip().lower())


@lru_cache(maxsize=4096)
def parse_year(raw: str) -> int | None:
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) != 4:  # int('²²²²') fails
        return None
    year = int(raw)
    return year if 1990 <= year <= 2100 else None


@lru_cache(maxsize=4096)
def parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None
