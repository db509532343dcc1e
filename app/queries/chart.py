"""The shape of a chart the pages draw: labels and series read from the database, the same
numbers as the accessible table beside it (drawn by app/web/charts.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    """One chart and the accessible table beside it: the same labels and values."""

    name: str
    title: str
    x_title: str
    x_labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]  # (label, values in x order)
    sparse: bool = False  # the table leaves out rows that are all zero (months with no returns)
    # Labels on the x axis (the table keeps every row): None = every label.
    axis_labels: tuple[str, ...] | None = None
    # A first point left out of the chart because it would dwarf the rest (the table keeps it),
    # with the sentence that says so.
    left_out: str | None = None
    stacked: bool = False

    @property
    def rows(self) -> list[tuple[str, tuple[int, ...]]]:
        """(x label, the series' values) for every point of the chart."""
        return [
            (label, tuple(values[i] for _name, values in self.series))
            for i, label in enumerate(self.x_labels)
        ]

    @property
    def table_rows(self) -> list[tuple[str, tuple[int, ...]]]:
        """The rows of the table beside the chart."""
        if not self.sparse:
            return self.rows
        return [(label, values) for label, values in self.rows if any(values)]
