"""The SVG charts: self-contained, accessible, deterministic, and refusing data that does not fit."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from reporting.charts import DISTINCT_SERIES, bar_chart_svg, bar_style, line_chart_svg, line_style
from reporting.errors import InvalidChart

SVG = "{http://www.w3.org/2000/svg}"
YEARS = ["2019", "2020", "2021"]
RATES: dict[str, list[float | None]] = {"six-month-rule": [41.5, 38.0, None], "ladder-step": [12.0, 55.25, 61.0]}


def test_the_same_input_gives_the_same_bytes() -> None:
    assert line_chart_svg("Uitstroom", YEARS, RATES, "%") == line_chart_svg("Uitstroom", YEARS, RATES, "%")
    bars = {"2020": [3.0, 4.0]}
    assert bar_chart_svg("Betalingen", ["a", "b"], bars, "euro") == bar_chart_svg("Betalingen", ["a", "b"], bars, "euro")


def test_a_chart_is_one_svg_element_with_title_desc_and_text_as_text() -> None:
    markup = line_chart_svg("Uitstroom <per jaar> & definitie", YEARS, RATES, "uitstroom (%)")
    root = ET.fromstring(markup)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == "Uitstroom <per jaar> & definitie"
    assert desc is not None and desc.text is not None
    assert "six-month-rule: 2019 41.5, 2020 38, 2021 geen waarde" in desc.text and "ladder-step" in desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"2019", "2020", "2021", "six-month-rule", "ladder-step"} <= texts


def test_no_network_reference_and_no_script() -> None:
    markup = line_chart_svg("U", YEARS, RATES, "%") + bar_chart_svg("B", ["x"], {"s": [1.0]}, "n")
    assert "<script" not in markup and "@import" not in markup and "<?xml" not in markup
    urls = set(re.findall(r"https?://[^\"' )]+", markup))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # namespace names, never fetched
    assert all(ref.startswith("#") for ref in re.findall(r'href="([^"]*)"', markup))


def test_two_charts_on_one_page_share_no_id() -> None:
    first = line_chart_svg("Per definitie", YEARS, RATES, "%")
    second = bar_chart_svg("Per aanbieder", ["p1", "p2"], {"six-month-rule": [10.0, 20.0]}, "%")
    ids_first = re.findall(r' id="([^"]+)"', first)
    ids_second = re.findall(r' id="([^"]+)"', second)
    assert ids_first and ids_second
    assert len(set(ids_first)) == len(ids_first) and not set(ids_first) & set(ids_second)


@pytest.mark.parametrize(("call", "field"), [
    (lambda: line_chart_svg("U", YEARS, {"a": [1.0, 2.0]}, "%"), "series"),
    (lambda: line_chart_svg("U", [], {"a": []}, "%"), "labels"),
    (lambda: line_chart_svg(" ", YEARS, RATES, "%"), "title"),
    (lambda: line_chart_svg("U", ["x"], {"a": [float("nan")]}, "%"), "series"),
    (lambda: bar_chart_svg("B", ["x"], {}, "n"), "values"),
    (lambda: bar_chart_svg("B", ["x"], {"a": [None]}, "n"), "values"),  # type: ignore[list-item]
], ids=["length", "no-labels", "no-title", "nan", "no-series", "bar-gap"])
def test_data_that_does_not_fit_is_a_typed_error_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(InvalidChart) as raised:
        call()  # type: ignore[operator]
    assert raised.value.field == field and raised.value.rule == "report.chart"


def test_up_to_24_series_each_look_different_without_colour() -> None:
    """WCAG 1.4.1: the 9th line used to repeat the 1st one's colour, marker and line style."""
    assert DISTINCT_SERIES == 24
    lines = [line_style(n) for n in range(DISTINCT_SERIES)]
    assert len({(marker, dash) for _colour, marker, dash in lines}) == DISTINCT_SERIES  # apart by shape alone
    assert lines[8] != lines[0] and lines[8][1:] != lines[0][1:]
    bars = [bar_style(n) for n in range(DISTINCT_SERIES)]
    assert len({hatch for _colour, hatch in bars}) == DISTINCT_SERIES
    assert [line_style(n) for n in range(DISTINCT_SERIES)] == lines  # deterministic
    assert line_style(3) == ("#D55E00", "D", ":")  # the first 8 kept their look


def test_a_chart_of_24_series_draws_24_different_lines_and_bars() -> None:
    labels = ["2019", "2020"]
    names = [f"definitie-{n:02d}" for n in range(DISTINCT_SERIES)]
    markup = line_chart_svg("Veel", labels, {name: [float(n), float(n + 1)] for n, name in enumerate(names)}, "%")
    root = ET.fromstring(markup)
    assert set(names) <= {t.text for t in root.iter(f"{SVG}text")}
    # one marker definition per distinct (marker, colour), beside those of the axes' ticks: none shared
    ticks = len(set(re.findall(r'<path id="(m[0-9a-f]+)"', line_chart_svg("Een", labels, {"a": [1.0, 2.0]}, "%")))) - 1
    assert len(set(re.findall(r'<path id="(m[0-9a-f]+)"', markup))) == ticks + DISTINCT_SERIES
    bars = bar_chart_svg("Veel", labels, {name: [1.0, 2.0] for name in names}, "n")
    assert len(set(re.findall(r'<pattern id="(h[0-9a-f]+)"', bars))) == DISTINCT_SERIES - 1  # the first is plain
