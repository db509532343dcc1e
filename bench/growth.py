"""How cost grows with the programme: the same measurements at each --scale, on each
database, as a table (bench/results.md) and a chart of time against size (bench/growth.svg,
drawn with pygal, the project's chart library)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

BATCH = ("import", "re-import", "insights", "sweep", "send")
PLOT_HEIGHT = 640  # px of the chart above its legend
LEGEND_ROW = 24  # px per row of the legend
LEGEND_COLUMNS = 3


@dataclass
class Point:
    kind: str  # SQLite or PostgreSQL
    factor: float
    cases: int
    figures: dict[str, float] = field(default_factory=dict)
    queries: dict[str, object] = field(default_factory=dict)  # page -> count (or a reason)


@dataclass
class Growth:
    points: list[Point] = field(default_factory=list)

    def add(self, point: Point) -> None:
        self.points.append(point)

    def pages(self) -> list[str]:
        names: list[str] = []
        for point in self.points:
            for key in point.figures:
                name = key.removeprefix("p95: ")
                if key.startswith("p95: ") and name not in names:
                    names.append(name)
        return names

    def markdown(self) -> str:
        if not self.points:
            return ""
        pages = self.pages()
        head = ["database", "size", "open cases", *BATCH]
        head += [f"{p}: p95 / queries" for p in pages]
        out = [
            "## Growth: the same measurements at each size",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
        ]
        kinds = list(dict.fromkeys(p.kind for p in self.points))
        for point in sorted(self.points, key=lambda p: (kinds.index(p.kind), p.factor)):
            cells = [point.kind, f"{point.factor:g}×", f"{point.cases:,}"]
            cells += [_seconds(point.figures.get(name)) for name in BATCH]
            for page in pages:
                p95 = point.figures.get(f"p95: {page}")
                count = point.queries.get(page, "—")
                p95_text = f"{p95 * 1000:.0f} ms" if p95 is not None else "—"
                cells.append(f"{p95_text} / {count if isinstance(count, int) else '—'}")
            out.append("| " + " | ".join(cells) + " |")
        out += ["", *self._judgements(), ""]
        return "\n".join(out) + "\n"

    def _judgements(self) -> list[str]:
        """Batch work against the data (time per case, largest ÷ smallest size), and whether
        each page's query count stayed the same at every size."""
        lines = []
        for kind in dict.fromkeys(p.kind for p in self.points):
            points = sorted((p for p in self.points if p.kind == kind), key=lambda p: p.factor)
            if len(points) < 2:
                continue
            low, high = points[0], points[-1]
            size = high.cases / max(1, low.cases)
            growth = []
            for name in BATCH:
                a, b = low.figures.get(name), high.figures.get(name)
                if a and b:
                    growth.append(f"{name} ×{b / a:.1f}")
            lines.append(
                f"- {kind}: from {low.factor:g}× to {high.factor:g}× the data grows ×{size:.0f}; "
                f"the batch times grow {', '.join(growth) or 'n/a'} (wall clock from process "
                f"start, so the fixed start-up weighs on the small size)."
            )
            flat = []
            for page in self.pages():
                counts = {p.queries.get(page) for p in points}
                if len(counts) == 1 and isinstance(next(iter(counts)), int):
                    flat.append(f"{page} {next(iter(counts))}")
                else:
                    flat.append(f"{page} CHANGES ({'/'.join(str(c) for c in counts)})")
            lines.append(f"- {kind}: queries per page at every size: {'; '.join(flat)}.")
        return lines

    def chart(self, path: Path, timeout: float = 60) -> None:
        """Draw the chart in a child process, given `timeout` seconds: should pygal's drawing
        never end (as it did before the height grew with the legend, taking all memory until
        the bench was killed), the table is not lost to the chart."""
        import multiprocessing

        child = multiprocessing.get_context("fork").Process(target=self._draw, args=(path,))
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            raise TimeoutError(f"pygal did not finish the chart in {timeout:.0f} s")
        if child.exitcode != 0:
            raise RuntimeError(f"drawing the chart failed (exit {child.exitcode})")

    def _draw(self, path: Path) -> None:
        """Seconds against open cases for each batch job and database; page p95 (ms) on the
        secondary axis."""
        import pygal
        from pygal.style import Style

        style = Style(
            background="#ffffff",
            plot_background="#ffffff",
            foreground="#212529",
            foreground_strong="#212529",
            foreground_subtle="#495057",
        )
        series = self._series()
        chart = pygal.XY(
            title="Time against size (bench/results.md)",
            x_title="open cases",
            y_title="seconds (batch jobs)",
            style=style,
            width=1000,
            # The legend sits below the plot, a row per LEGEND_COLUMNS series. pygal does not
            # shrink it: once it takes the whole height, wrapping the axis title never ends
            # (pygal.util.split_title with no room), which is how earlier runs hung.
            height=PLOT_HEIGHT + LEGEND_ROW * -(-len(series) // LEGEND_COLUMNS),
            legend_at_bottom=True,
            legend_at_bottom_columns=LEGEND_COLUMNS,
            dots_size=3,
            js=[],
            disable_xml_declaration=False,
        )
        for title, values, secondary in series:
            chart.add(title, values, secondary=secondary)
        path.write_bytes(chart.render())

    def _series(self) -> list[tuple[str, list[tuple[int, float]], bool]]:
        """(title, points, on the secondary axis) for each batch job and page, per database."""
        series = []
        for kind in dict.fromkeys(p.kind for p in self.points):
            points = sorted((p for p in self.points if p.kind == kind), key=lambda p: p.factor)
            for name in BATCH:
                values = [(p.cases, p.figures[name]) for p in points if name in p.figures]
                if values:
                    series.append((f"{name} ({kind}), s", values, False))
            for page in self.pages():
                key = f"p95: {page}"
                values = [(p.cases, p.figures[key] * 1000) for p in points if key in p.figures]
                if values:
                    series.append((f"{page} p95 ({kind}), ms", values, True))
        return series


def _seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "—"
