"""``trajectledger report --bundle PATH --out FILE``: the council report of a verified export.

The workbook opens with openpyxl and its figures are the JSON reports' (``replay``, ``payments``,
``flags --format json`` on the same bundle); the page has one SVG chart per definition-by-year
figure and needs no network; every figure states its basis; a tampered bundle gives no report."""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from ledger.bundle import layout
from ledger.bundle.export import export_bundle
from ledger.domain.checkpoint import parse_checkpoint_body
from ledger.synthetic.parties import AUDITOR
from reporting.council import CONTRACT
from reporting.xlsx import header_row
from tests.integration.test_reports_on_bundle import ALL, Recorded, on_sqlite, run, tamper  # noqa: F401 (a fixture)

PEILDATUM = "2026-06-30"


def _checkpoint(bundle: Path) -> tuple[int, str]:
    note = (bundle / layout.CHECKPOINT).read_bytes()
    body = parse_checkpoint_body(note[: note.index(b"\n\n") + 1])
    return body.size, base64.b64encode(body.root_hash).decode("ascii")


def _json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    code, out, _ = run(monkeypatch, capsys, [*argv, "--format", "json"])
    assert code == 0, argv
    return json.loads(out)


def _table(sheet: Worksheet) -> tuple[list[str], list[list[Any]], list[Any] | None]:
    """(header, rows, total) of a table sheet: the rows run to the first blank row, the total follows it."""
    start = header_row(sheet)
    values = [list(r) for r in sheet.iter_rows(min_row=start, values_only=True)]
    header, body = [str(v) for v in values[0]], values[1:]
    blank = next((i for i, row in enumerate(body) if all(v is None for v in row)), len(body))
    total = body[blank + 1] if blank + 1 < len(body) else None
    return header, body[:blank], total


def _cents(value: Any) -> int:
    return round(float(value) * 100)


def test_the_workbook_holds_the_json_reports_figures(on_sqlite: Recorded, tmp_path: Path,  # noqa: F811
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    bundle, out = str(on_sqlite.archive), tmp_path / "raad.xlsx"
    code, printed, err = run(monkeypatch, capsys, ["report", "--bundle", bundle, "--out", str(out), "--definition", *ALL,
                                                   "--peildatum", PEILDATUM])
    size, root = _checkpoint(on_sqlite.bundle)
    assert code == 0 and f"verified {size} entries" in err and f"checkpoint {size} {root}" in printed
    book = load_workbook(out)
    assert book.sheetnames == ["Toelichting", "Uitstroom per jaar", "Uitstroom per aanbieder", "Uitstroom aanbieder en jaar",
                               "Verschillen tussen definities", "Signaleringen per claim", "Betalingen"]
    for sheet in book.worksheets:  # every sheet states the basis of its figures
        stated = {row[0]: row[1] for row in sheet.iter_rows(max_row=7, max_col=2, values_only=True)}
        assert stated["peildatum"] == PEILDATUM and stated["checkpoint"] == f"grootte {size}, root {root}", sheet.title
        assert "pending" in str(stated["noemer"]) and "niet mee in de noemer" in str(stated["noemer"])

    replay = _json(monkeypatch, capsys, ["replay", "--definition", *ALL, "--peildatum", PEILDATUM, "--by", "cohort",
                                         "--bundle", bundle])
    header, rows, total = _table(book["Uitstroom per jaar"])
    assert total is not None and len(rows) == len(replay["rates"]) - 1
    for expected, row in zip(replay["rates"], [*rows, total]):
        assert row[0] == (expected["group"] if expected["group"] != "(all)" else "totaal")
        assert row[header.index("trajecten")] == expected["trajectories"]
        for name in ALL:
            counts = expected["outcomes"][name]
            got = [row[header.index(f"{name}: {c}")] for c in ("geslaagd", "niet geslaagd", "pending", "uitstroom")]
            assert got[:3] == [counts["success"], counts["failure"], counts["pending"]], (row[0], name)
            assert got[3] == (None if counts["rate"] is None else pytest.approx(counts["rate"], rel=1e-12))  # xlsx: 15 digits
    assert total[header.index(f"{CONTRACT}: geslaagd")] > 0

    by_provider = _json(monkeypatch, capsys, ["replay", "--definition", *ALL, "--peildatum", PEILDATUM, "--bundle", bundle])
    header, rows, total = _table(book["Uitstroom aanbieder en jaar"])
    summed: dict[str, int] = defaultdict(int)
    for row in rows:
        summed[row[0]] += row[header.index("six-month-rule: geslaagd")]
    assert summed == {r["group"]: r["outcomes"]["six-month-rule"]["success"] for r in by_provider["rates"][:-1]}
    header, rows, _ = _table(book["Verschillen tussen definities"])
    assert [r[0] for r in rows] == [d["trajectory_id"] for d in by_provider["differences"]] and rows

    payments = _json(monkeypatch, capsys, ["payments", "--definition", *ALL, "--peildatum", PEILDATUM, "--bundle", bundle])
    header, rows, total = _table(book["Betalingen"])
    contracts = payments["contracts"]
    assert total is not None and total[0] == "totaal"
    assert _cents(total[header.index("verschuldigd (euro)")]) == sum(c["owed_cents"] for c in contracts) > 0
    assert _cents(total[header.index("nog afhankelijk van uitkomst (euro)")]) == sum(c["pending_cents"] for c in contracts)
    assert total[header.index("trajecten")] == sum(c["trajectories"] for c in contracts)
    for name in ALL:
        assert _cents(total[header.index(f"verschuldigd als {name} (euro)")]) == sum(c["owed_if"][name] for c in contracts)
    per_provider: dict[str, int] = defaultdict(int)
    for row in rows:
        per_provider[row[0]] += _cents(row[header.index("verschuldigd (euro)")])
    expected_per_provider: dict[str, int] = defaultdict(int)
    for c in contracts:
        expected_per_provider[c["provider"]] += c["owed_cents"]
    assert per_provider == expected_per_provider

    flags = _json(monkeypatch, capsys, ["flags", "--peildatum", PEILDATUM, "--bundle", bundle])["flags"]
    header, rows, _ = _table(book["Signaleringen per claim"])
    assert [r[0] for r in rows] == sorted({f["claim_id"] for f in flags}) and rows
    for row in rows:
        named = {f["flag"] for f in flags if f["claim_id"] == row[0]}
        assert row[header.index("signaleringen")] == len(named)
        assert {column for column in header if row[header.index(column)] is True} == named


class _Page(HTMLParser):
    """What the accessibility and chart checks need of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.figures: list[tuple[str, int]] = []  # (class, SVG elements inside)
        self.headers_without_scope = self.tables = self.captions = 0
        self.references: list[str] = []
        self._figure: list[Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        elif tag == "figure":
            self._figure = [found.get("class") or "", 0]
        elif tag == "svg" and self._figure is not None:
            self._figure[1] += 1
        elif tag == "th" and found.get("scope") not in ("col", "row"):
            self.headers_without_scope += 1
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag in ("script", "link", "img", "iframe", "object"):
            self.references.append(tag)
        for name in ("src", "href", "xlink:href"):
            value = found.get(name)
            if value is not None and not value.startswith("#"):
                self.references.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure" and self._figure is not None:
            self.figures.append((self._figure[0], self._figure[1]))
            self._figure = None


def test_the_page_has_one_chart_per_definition_by_year_figure(on_sqlite: Recorded, tmp_path: Path,  # noqa: F811
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "raad.html"
    argv = ["report", "--bundle", str(on_sqlite.bundle), "--out", str(out), "--peildatum", PEILDATUM,
            "--definition", "six-month-rule", "ladder-step", "voluntary-stop"]
    assert run(monkeypatch, capsys, argv)[0] == 0
    html = out.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    providers = _json(monkeypatch, capsys, ["replay", "--peildatum", PEILDATUM, "--bundle", str(on_sqlite.bundle)])["rates"][:-1]
    by_year = [count for kind, count in page.figures if "by-year" in kind]
    assert by_year == [1] * (1 + len(providers))  # all providers together, then each provider: one SVG each
    assert [count for kind, count in page.figures if "by-provider" in kind] == [1]
    assert page.lang == "nl" and page.headers_without_scope == 0 and page.tables == page.captions >= 7
    assert page.references == [], "the page must open without a network"
    assert set(re.findall(r"https?://[^\"' )<]+", html)) <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    size, root = _checkpoint(on_sqlite.bundle)
    # every table and every chart states its basis
    assert html.count(f"Peildatum {PEILDATUM}; ") == page.tables - 1 + len(page.figures)
    assert html.count(f"grootte {size}, root {root}") >= page.tables - 1 + len(page.figures)
    for name in ("six-month-rule", "ladder-step", "voluntary-stop", CONTRACT):
        assert f">{name}</text>" in html  # each series named in each chart's legend, as text
    # the same bundle and options give the same page, byte for byte
    again = tmp_path / "again.html"
    assert run(monkeypatch, capsys, [*argv[:4], str(again), *argv[5:]])[0] == 0
    assert again.read_bytes() == out.read_bytes()


def test_a_tampered_bundle_gives_no_report(on_sqlite: Recorded, tmp_path: Path,  # noqa: F811
                                           monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = tmp_path / "tampered"
    shutil.copytree(on_sqlite.bundle, bundle)
    tamper(bundle, on_sqlite.ledger.log_size() // 2)
    for suffix in ("xlsx", "html"):
        out = tmp_path / f"raad.{suffix}"
        code, printed, err = run(monkeypatch, capsys, ["report", "--bundle", str(bundle), "--out", str(out)])
        assert (code, printed) == (3, "") and err.startswith("FAILED: entry ") and "step (2)" in err
        assert list(tmp_path.glob("raad*")) == [] and list(tmp_path.glob(".raad*")) == []


def test_an_unknown_format_is_refused_before_the_bundle_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(monkeypatch, capsys, ["report", "--bundle", str(tmp_path / "none"), "--out", str(tmp_path / "r.pdf")])
    assert (code, out) == (2, "") and "report.format [--out]" in err and ".xlsx, .html" in err


def test_a_report_on_a_scoped_export_says_what_it_covers(on_sqlite: Recorded, tmp_path: Path,  # noqa: F811
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    scoped = tmp_path / "scoped"
    export_bundle(on_sqlite.ledger, scoped, for_auditor=AUDITOR)
    out = tmp_path / "raad.xlsx"
    code, _, err = run(monkeypatch, capsys, ["report", "--bundle", str(scoped), "--out", str(out), "--peildatum", PEILDATUM])
    assert code == 0 and "scoped" in err
    stated = {row[0]: row[1] for row in load_workbook(out)["Betalingen"].iter_rows(max_row=8, max_col=2, values_only=True)}
    assert str(stated["reikwijdte"]).startswith(f"Export afgebakend voor {AUDITOR} (opdrachtgevers: ")
    assert "tellen in geen enkel cijfer mee" in str(stated["reikwijdte"])
