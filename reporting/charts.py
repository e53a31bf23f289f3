"""Charts as inline SVG: self-contained, accessible and byte-for-byte deterministic.

Drawn with matplotlib's object API (no pyplot, so no global figure state and no GUI backend):
matplotlib is the best-kept plotting library of the Python ecosystem, ships its own type
information and writes SVG without any script or stylesheet reference. Three settings make the
markup fit a report that must open without a network and give the same bytes for the same input:

* ``svg.fonttype = none``: text stays text (selectable, read by screen readers), not glyph paths;
* ``svg.hashsalt``: the ids matplotlib gives to clip paths and markers are hashes salted with a
  digest of the chart's own input, so they repeat from run to run yet differ between two charts
  inlined in the same HTML page;
* metadata off (no date, no creator), and the XML prologue and DOCTYPE are dropped so the result
  can be inlined in HTML.

The root ``<svg>`` gets ``role="img"``, a ``<title>`` and a ``<desc>`` (the figures in words) and
``aria-labelledby`` pointing at both. Series differ by marker, line style or hatch, not by colour
alone (WCAG 1.4.1): ``line_style(n)`` and ``bar_style(n)`` give series ``n`` its look, and no two
of the first ``DISTINCT_SERIES`` series share their marker and line style, or their hatch.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from html import escape

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from reporting.errors import InvalidChart

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_LINESTYLES = ("-", "--", "-.", ":")
_HATCHES = ("", "//", "..", "xx", "\\\\", "--", "++", "oo")
_HATCH_OVERLAYS = ("", "||", "**")  # characters no hatch above uses: a 9th or 17th series' hatch is new
# Okabe-Ito: distinguishable with the common colour-vision deficiencies
_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
_STRUCTURAL_ID = re.compile(r' id="[A-Za-z][\w.]*_\d+"')
_NO_METADATA: dict[str, str | None] = {"Date": None, "Creator": None, "Format": None, "Type": None}
DISTINCT_SERIES = len(_HATCHES) * len(_HATCH_OVERLAYS)  # 24; lines stay distinct up to 8 x 4 = 32


def line_style(number: int) -> tuple[str, str, str]:
    """(colour, marker, line style) of line ``number`` (from 0). The marker runs through its 8, and
    each further round of 8 shifts line style and colour by one: series ``n`` and ``n + 8k`` (k < 4)
    share the marker but never the line style, so no two of the first 32 look alike without colour."""
    shift = number + number // len(_MARKERS)
    return (_COLOURS[shift % len(_COLOURS)], _MARKERS[number % len(_MARKERS)], _LINESTYLES[shift % len(_LINESTYLES)])


def bar_style(number: int) -> tuple[str, str]:
    """(colour, hatch) of bar series ``number`` (from 0): the 8 hatches, then with ``||``, then ``**``
    laid over them, colours shifted by one each round."""
    rounds = number // len(_HATCHES)
    return (_COLOURS[(number + rounds) % len(_COLOURS)],
            _HATCHES[number % len(_HATCHES)] + _HATCH_OVERLAYS[rounds % len(_HATCH_OVERLAYS)])


def line_chart_svg(title: str, x_labels: list[str], series: dict[str, list[float | None]], y_label: str) -> str:
    """One line per series over ``x_labels``; ``None`` is a gap (no value for that label)."""
    _check(title, x_labels, series, "series")
    figure, axes = _figure(len(x_labels), title, y_label)
    positions = list(range(len(x_labels)))
    for number, (name, values) in enumerate(series.items()):
        colour, marker, linestyle = line_style(number)
        axes.plot(positions, [math.nan if v is None else float(v) for v in values], label=name,
                  color=colour, marker=marker, linestyle=linestyle, linewidth=1.8)
    _x_axis(axes, x_labels)
    return _render(figure, "line", title, x_labels, series, y_label)


def bar_chart_svg(title: str, labels: list[str], values: dict[str, list[float]], y_label: str) -> str:
    """Grouped bars: for each label, one bar per series in ``values``."""
    _check(title, labels, values, "values")
    for name, row in values.items():
        if any(v is None for v in row):
            raise InvalidChart(f"series {name!r} holds a missing value; a bar chart needs every value", field="values")
    figure, axes = _figure(len(labels), title, y_label)
    count = max(len(values), 1)
    width = 0.8 / count
    for number, (name, row) in enumerate(values.items()):
        offset = (number - (count - 1) / 2) * width
        colour, hatch = bar_style(number)
        axes.bar([i + offset for i in range(len(labels))], [float(v) for v in row], width=width, label=name,
                 color=colour, hatch=hatch, edgecolor="#222222", linewidth=0.6)
    _x_axis(axes, labels)
    return _render(figure, "bar", title, labels, values, y_label)


def _check(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]], field: str) -> None:
    if not title.strip():
        raise InvalidChart("a chart needs a title (it becomes the SVG <title>)", field="title")
    if not labels:
        raise InvalidChart("a chart needs at least one label on its x axis", field="labels")
    if not series:
        raise InvalidChart("a chart needs at least one series", field=field)
    for name, row in series.items():
        if len(row) != len(labels):
            raise InvalidChart(f"series {name!r} has {len(row)} values for {len(labels)} labels", field=field)
        for value in row:
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)):
                raise InvalidChart(f"series {name!r} holds {value!r}, not a finite number", field=field)


def _figure(label_count: int, title: str, y_label: str) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(max(6.0, 0.7 * label_count + 2.5), 3.6), layout="constrained")
    FigureCanvasSVG(figure)
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=11)
    axes.set_ylabel(y_label)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


def _x_axis(axes: Axes, labels: list[str]) -> None:
    slanted = max(len(label) for label in labels) > 8
    axes.set_xticks(list(range(len(labels))), labels, rotation=30 if slanted else 0, ha="right" if slanted else "center")
    axes.set_ylim(bottom=0)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


def _render(figure: Figure, kind: str, title: str, labels: Sequence[str],
            series: Mapping[str, Sequence[float | None]], y_label: str) -> str:
    data = json.dumps([kind, title, list(labels), {k: list(v) for k, v in series.items()}, y_label], sort_keys=True)
    digest = hashlib.sha256(data.encode()).hexdigest()[:12]
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": digest, "svg.id": f"chart-{digest}"}):
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    # matplotlib's structural ids (figure_1, axes_1, ...) would repeat between two charts of one page
    markup = _STRUCTURAL_ID.sub("", buffer.getvalue())
    # its stylesheet's ``*`` selector would reach the whole page once inlined: keep it to this chart
    markup = markup.replace("<style type=\"text/css\">*{", f"<style type=\"text/css\">#chart-{digest} *{{", 1)
    start = markup.index("<svg")
    tag_end = markup.index(">", start)
    title_id, desc_id = f"chart-{digest}-title", f"chart-{digest}-desc"
    opening = markup[start:tag_end] + f' role="img" aria-labelledby="{title_id} {desc_id}">'
    accessible = (f'<title id="{title_id}">{escape(title)}</title>'
                  f'<desc id="{desc_id}">{escape(_describe(kind, labels, series, y_label))}</desc>')
    return opening + "\n " + accessible + markup[tag_end + 1:].rstrip() + "\n"


def _describe(kind: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]], y_label: str) -> str:
    """The figures in words, for a reader who cannot see the chart."""
    parts = []
    for name, row in series.items():
        points = ", ".join(f"{label} {_number(value)}" for label, value in zip(labels, row))
        parts.append(f"{name}: {points}")
    noun = "Lijndiagram" if kind == "line" else "Staafdiagram"
    return f"{noun} van {y_label}. " + "; ".join(parts) + "."


def _number(value: float | None) -> str:
    if value is None:
        return "geen waarde"
    return f"{value:g}"
