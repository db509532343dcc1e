"""The results table: one row per measurement, with its target and whether it was met."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

OK, MISSED = "ok", "MISSED"


@dataclass
class Row:
    what: str
    target: str
    runs: int = 0
    median: str = "—"
    result: str = ""
    # Query-count rows decide the exit status (also in --quick); timing rows never do.
    decisive: bool = False

    @property
    def failed(self) -> bool:
        return (self.decisive and self.result == MISSED) or self.result.startswith("error")


def not_available(what: str, target: str, reason: str) -> Row:
    return Row(what, target, result=f"not available yet: {reason}")


def errored(what: str, target: str, error: Exception) -> Row:
    text = " ".join(str(error).split())[:300]
    return Row(what, target, result=f"error: {error.__class__.__name__}: {text}")


def judged(
    what: str,
    target: str,
    values: list[float],
    unit: Callable[[float], str],
    passes: Callable[[float], bool],
    judge: bool,
) -> Row:
    """A timing row: the median of `values` against its target (not judged in --quick)."""
    median = statistics.median(values)
    result = (OK if passes(median) else MISSED) if judge else "not judged (--quick)"
    return Row(what, target, runs=len(values), median=unit(median), result=result)


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def megabytes(value: float) -> str:
    return f"{value:.0f} MB"


def millis(value: float) -> str:
    return f"{value * 1000:.0f} ms"


@dataclass
class Report:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(f"  {row.what}: {row.median} ({row.result})", flush=True)
        return row

    @property
    def failed(self) -> bool:
        return any(row.failed for row in self.rows)

    def markdown(self) -> str:
        lines = [
            f"# {self.title}",
            "",
            "| what | runs | median | target | result |",
            "|---|---|---|---|---|",
        ]
        for row in self.rows:
            cells = [row.what, str(row.runs or "—"), row.median, row.target, row.result]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
        lines.append("")
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"
