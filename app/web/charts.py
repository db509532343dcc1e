"""Server-rendered SVG charts (pygal): no JavaScript, nothing fetched from elsewhere.

pygal puts a <style> element and a configuration <script> inside the SVG. The script is removed
here (it only serves pygal's optional tooltips, which need JavaScript we do not load). The
charts are shown as <img src> from their own route: a page's CSP (`style-src 'self'`) does not
govern an image's own document, and the SVG response carries its own CSP allowing only its
inline style."""

from __future__ import annotations

from functools import cache

from app.queries.chart import Chart

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"


@cache
def _style():
    """Colours with at least 3:1 contrast on white (WCAG 2.2 non-text contrast).

    pygal is imported here, on the first chart drawn, not when the app starts."""
    from pygal.style import Style

    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#212529",
        foreground_strong="#212529",
        foreground_subtle="#495057",
        colors=("#0b5394", "#b45309", "#1b7837", "#6f42c1"),
        font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
        title_font_size=18,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=14,
        value_font_size=12,
    )


def render_svg(chart: Chart) -> str:
    """The chart as a standalone SVG document (text), without scripts."""
    import pygal

    x_labels, series = list(chart.x_labels), [(label, list(v)) for label, v in chart.series]
    if chart.left_out:  # the first point is in the table, not in the chart
        x_labels, series = x_labels[1:], [(label, values[1:]) for label, values in series]
    axis = list(chart.axis_labels) if chart.axis_labels is not None else x_labels
    few = len(x_labels) <= 12
    graph = (pygal.StackedBar if chart.stacked else pygal.Bar)(
        title=chart.title,
        x_title=chart.x_title,
        style=_style(),
        width=800,
        height=400,
        disable_xml_declaration=True,
        js=[],
        show_legend=len(chart.series) > 1,
        legend_at_bottom=True,
        print_values=few and not chart.stacked,
        # Many bars (months over years): only the axis labels chosen (e.g. one a quarter) show,
        # in full: pygal would otherwise cut every label to "…".
        show_minor_x_labels=few,
        truncate_label=-1,
        x_label_rotation=0 if few else 30,
        min_scale=1,
        max_scale=8,
        no_data_text="No data",
    )
    graph.x_labels = x_labels
    if not few:
        graph.x_labels_major = axis
    for label, values in series:
        graph.add(label, values)
    tree = graph.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    from xml.etree import ElementTree

    try:
        return ElementTree.tostring(tree, encoding="unicode")
    except TypeError:  # pygal renders with lxml when it is installed
        from lxml import etree

        return etree.tostring(tree, encoding="unicode")
