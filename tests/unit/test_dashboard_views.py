"""The dashboard's view logic, with no browser and no server: figures and their CSV, the queue's
filters, the proofs from leaf levels, the per-version cache, the catalogues, and the pages as
rendered for a fake source (a failing proof is loud; an action needs the page's own token)."""

from __future__ import annotations

import csv
import io
import os
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from dashboard import figures
from dashboard.app import create_dashboard
from dashboard.cache import PerVersion
from dashboard.i18n import translations
from dashboard.pages import age
from dashboard.proofs import PerfectLevels
from dashboard.sources import CLAIM_STATUSES, Health, ProofCheck, ReadOnly, Who
from ledger.domain.merkle.tree import inclusion_proof
from tests.api.bridge import ASGIBridge

_ = translations("nl").gettext
REF = "ab" * 32


def rates(groups: dict[str, dict[str, tuple[int, int, int]]],
          by_contract: dict[str, tuple[int, int, int, int]] | None = None) -> dict[str, Any]:
    """An outflow-rates answer: per group, per definition (success, failure, pending); per group
    under each contract's own definition (success, failure, pending, unjudged), else the first's."""
    names = sorted({n for row in groups.values() for n in row})

    def counts(s: int, f: int, p: int) -> dict[str, Any]:
        return {"success": s, "failure": f, "pending": p, "rate": None if s + f == 0 else s / (s + f)}

    items = [{"group": g, "trajectories": sum(sum(v) for v in row.values()) // len(row),
              "outcomes": [{"definition": n, **counts(*c)} for n, c in row.items()],
              "by_contract": ({**counts(*by_contract[g][:3]), "unjudged": by_contract[g][3]} if by_contract
                              else {**counts(*next(iter(row.values()))), "unjudged": 0})}
             for g, row in groups.items()]
    return {"definitions": [{"name": n, "version": "1", "summary": ""} for n in names], "items": items}


def claim_item(claim_id: str, provider: str, status: str = "claimed", job_start: str = "2024-06-01",
               flags: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"client_ref": REF, "claim_id": claim_id, "trajectory_id": "t-" + claim_id, "funder": "gemeente-haarlem",
            "provider": provider, "employer_kvk": "12345678", "application_date": "2024-05-01", "job_start": job_start,
            "contract_end": None, "hours_per_week": 32, "status": status, "claimed_on": job_start,
            "flags": [{"name": f, "detail": "d"} for f in flags]}


def test_outflow_per_year_has_a_line_per_definition_and_its_numbers_in_the_table() -> None:
    found = figures.outflow_by_year(rates({
        "2023": {"six-month-rule": (1, 3, 0), "ladder-step": (3, 1, 0)},
        "2024": {"six-month-rule": (0, 0, 2), "ladder-step": (1, 1, 0)},
        "(all)": {"six-month-rule": (1, 3, 2), "ladder-step": (4, 2, 0)}},
        by_contract={"2023": (1, 3, 0, 0), "2024": (1, 1, 0, 0), "(all)": (2, 4, 0, 0)}), _)
    assert [[c.text for c in row] for row in found.table.rows] == [
        ["2023", "4", "75.0", "25.0", "25.0", "3/1/0", "1/3/0", "1/3/0"],
        ["2024", "2", "50.0", "-", "50.0", "1/1/0", "0/0/2", "1/1/0"]]
    assert found.svg is not None and "<title" in found.svg and "http" not in found.svg.replace("http://www.w3.org", "")
    assert found.svg.count("volgens contract") >= 1  # its own line, in the legend
    parsed = list(csv.reader(io.StringIO(found.table.csv())))
    assert parsed[0][:5] == ["startjaar", "trajecten", "ladder-step (%)", "six-month-rule (%)", "volgens contract (%)"]
    assert parsed[2][3] == "-"


def test_outflow_per_year_counts_contracts_naming_a_definition_not_installed() -> None:
    found = figures.outflow_by_year(rates({
        "2023": {"six-month-rule": (1, 1, 0)}, "(all)": {"six-month-rule": (1, 1, 0)}},
        by_contract={"2023": (1, 0, 0, 1), "(all)": (1, 0, 0, 1)}), translations("en").gettext)
    assert found.table.headers[-1] == "contract with an unknown definition"
    assert [c.text for c in found.table.rows[0]] == ["2023", "2", "50.0", "100.0", "1/1/0", "1/0/0", "1"]


def test_counts_and_an_empty_figure() -> None:
    counts = figures.outcome_counts(rates({"(all)": {"six-month-rule": (1, 3, 2)}}), _)
    assert [[c.text for c in row] for row in counts.rows] == [["six-month-rule", "1", "3", "2", "25.0"]]
    empty = figures.outflow_by_year(rates({"(all)": {"six-month-rule": (0, 0, 0)}}), _)
    assert empty.svg is None and empty.table.rows == []


def test_euros_are_written_the_dutch_way() -> None:
    assert [figures.euros(c) for c in (0, 5, 123456, -250, 100000000)] == ["0,00", "0,05", "1.234,56", "-2,50", "1.000.000,00"]


def test_payments_sum_per_provider_and_year_over_funders_and_contracts() -> None:
    row = {"year": 2024, "funder": "gemeente-haarlem", "provider": "werkfit", "contract": "no-cure-no-pay",
           "definition": "six-month-rule", "trajectories": 2, "owed_cents": 300000, "pending_cents": 0, "unjudged": 0,
           "owed_if": [{"definition": "ladder-step", "owed_cents": 600000}]}
    other = {**row, "funder": "uwv", "owed_cents": 50, "owed_if": [{"definition": "ladder-step", "owed_cents": 0}]}
    found = figures.payments_figure({"definitions": ["ladder-step"], "items": [row, other]}, _)
    assert [[c.text for c in r] for r in found.table.rows] == [["werkfit", "2024", "4", "3.000,50", "0,00", "6.000,00"]]
    assert found.svg is not None


def test_flags_count_per_flag_provider_and_year_and_link_to_their_claims() -> None:
    flagged = [{"provider": "werkfit", "job_start": "2024-06-01", "flag": {"name": "revolving-door", "detail": ""}},
               {"provider": "werkfit", "job_start": "2024-09-01", "flag": {"name": "revolving-door", "detail": ""}},
               {"provider": "jobstap", "job_start": "2023-02-01", "flag": {"name": "revolving-door", "detail": ""}}]
    table = figures.flags_figure(flagged, _).table
    assert table.headers[2:] == ["2023", "2024", "totaal"]
    werkfit = table.rows[1]
    assert [c.text for c in werkfit] == ["revolving-door", "werkfit", "0", "2", "2"]
    assert werkfit[2].href is None and werkfit[3].href == "/claims?status=all&flag=revolving-door&provider=werkfit&period=2024"


def test_the_queue_filters_by_status_provider_flag_and_period() -> None:
    claims = [claim_item("a", "werkfit", flags=("revolving-door",)), claim_item("b", "jobstap", job_start="2023-03-02"),
              claim_item("c", "werkfit", status="confirmed", job_start="2024-07-01")]
    pick = figures.select_claims
    assert [c["claim_id"] for c in pick(claims, "claimed", "", "", "")] == ["b", "a"]  # oldest claim first
    assert [c["claim_id"] for c in pick(claims, "all", "werkfit", "", "")] == ["a", "c"]
    assert [c["claim_id"] for c in pick(claims, "all", "", "revolving-door", "")] == ["a"]
    assert [c["claim_id"] for c in pick(claims, "all", "", "", "2024-07")] == ["c"]
    assert [c["claim_id"] for c in pick(claims, "all", "", "", "2023")] == ["b"]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 31, 64, 100])
def test_proofs_from_perfect_levels_are_rfc_9162_paths(size: int) -> None:
    leaves = [os.urandom(32) for _ in range(size)]
    levels = PerfectLevels(leaves)
    for tree_size in {1, size // 2 or 1, size}:
        for index in range(tree_size):
            assert levels.inclusion_proof(index, tree_size) == inclusion_proof(leaves[:tree_size], index)
    with pytest.raises(ValueError):
        levels.inclusion_proof(0, size + 1)


def test_the_cache_keeps_a_value_per_log_size() -> None:
    size, calls = [5], [0]

    def compute() -> int:
        calls[0] += 1
        return calls[0]

    cache = PerVersion(lambda: size[0])
    assert cache.get("k", compute) == 1 and cache.get("k", compute) == 1
    size[0] = 6  # a new entry, a new checkpoint: everything is read again
    assert cache.get("k", compute) == 2


def test_a_page_of_figures_shows_the_last_ones_while_the_new_ones_take_long() -> None:
    size, release = [5], threading.Event()

    def slow() -> str:
        release.wait(10)
        return f"figures at {size[0]}"

    cache = PerVersion(lambda: size[0], patience=0.05)
    release.set()
    first = cache.latest("overview", slow)  # nothing made yet: waits, however long it takes
    assert (first.value, first.version, first.stale) == ("figures at 5", 5, False)
    release.clear()
    size[0] = 6
    meanwhile = cache.latest("overview", slow)  # the new ones take longer than the patience
    assert (meanwhile.value, meanwhile.version, meanwhile.newest, meanwhile.stale) == ("figures at 5", 5, 6, True)
    release.set()
    for _attempt in range(200):  # made on a worker: kept once done
        if not cache.latest("overview", slow).stale:
            break
        threading.Event().wait(0.01)
    done = cache.latest("overview", slow)
    assert (done.value, done.version, done.stale) == ("figures at 6", 6, False)
    release.clear()
    size[0] = 7
    cache.clear()  # after an action of its own, the user waits for figures that show it
    release.set()
    assert cache.latest("overview", slow).value == "figures at 7"


def test_the_age_of_a_checkpoint_in_words() -> None:
    health = Health(10, 10, "00" * 32, "2026-01-01T10:00:00.000000Z")
    now = datetime(2026, 1, 1, 11, 30, tzinfo=timezone.utc)
    assert age(health, _, now) == "90 minuten geleden"
    assert age(health, translations("en").gettext, datetime(2026, 1, 3, 11, 0, tzinfo=timezone.utc)) == "2 days ago"
    assert age(Health(10, 10, "00" * 32, None), _) is None


def test_every_text_of_the_pages_has_an_english_translation() -> None:
    root = Path(__file__).resolve().parents[2] / "dashboard"
    with (root / "locale" / "en" / "LC_MESSAGES" / "dashboard.po").open("rb") as po:
        english = {message.id for message in read_po(po) if message.id and message.string}
    texts = {m if isinstance(m, str) else m[0]
             for _f, _l, m, _c, _x in extract_from_dir(str(root), method_map=[
                 ("**.py", "python"), ("templates/**.j2", "jinja2.ext:babel_extract")])}
    assert len(texts) > 50
    assert sorted(texts - english) == []
    assert translations("en").gettext("Overzicht") == "Overview" and translations("nl").gettext("claimed") == "geclaimd"
    with pytest.raises(ValueError):
        translations("de")


def browse(source: Any) -> httpx.Client:
    """The dashboard in-process, through the real HTTP stack (cookies kept, as a browser does)."""
    return httpx.Client(transport=ASGIBridge(create_dashboard(source)), base_url="http://127.0.0.1:8050")


class FakeSource:
    """A source with one claim whose second entry's proof fails."""

    who = Who("live", "gemeente-haarlem", "funder", "http://ledger.example")

    def __init__(self) -> None:
        self.acted: list[tuple[str, str | None]] = []

    def version(self) -> int:
        return 3

    def health(self) -> Health:
        return Health(3, 3, "11" * 32, None)

    def rates(self, group_by: str) -> dict[str, Any]:
        return rates({"2024": {"six-month-rule": (1, 1, 0)}, "(all)": {"six-month-rule": (1, 1, 0)}})

    def claims(self, status: str | None = None) -> list[dict[str, Any]]:
        return [c for c in [claim_item("c1", "werkfit")] if status in (None, c["status"])]

    def claim_counts(self) -> dict[str, int]:
        return {status: len(self.claims(status)) for status in CLAIM_STATUSES}

    def flags(self) -> list[dict[str, Any]]:
        return []

    def payments(self) -> dict[str, Any]:
        return {"peildatum": "2025-01-01", "definitions": [], "items": []}

    def entries(self, client_ref: str) -> list[dict[str, Any]]:
        return [{"log_index": i, "envelope": {"submitter": "werkfit", "payload": {"type": t, "trajectory_id": "t-c1",
                                                                                   "occurred_on": "2024-06-01"}},
                 "verdict": "accepted", "refusal": None, "recorded_at": "2024-06-01T00:00:00Z"}
                for i, t in ((0, "TrajectoryCommissioned"), (2, "PlacementClaimed"))]

    def prove(self, entries: list[dict[str, Any]]) -> list[ProofCheck]:
        return [ProofCheck(e["log_index"], e["log_index"] == 0, 3, "root mismatch" if e["log_index"] else "ok")
                for e in entries]

    def act(self, action: str, client_ref: str, claim_id: str, reason: str | None) -> dict[str, Any]:
        self.acted.append((action, reason))
        if action == "contest":
            raise ReadOnly("no", field="action")
        return {"type": "PlacementConfirmed", "envelope_id": "e1", "verdict": "accepted", "log_index": 3,
                "leaf_hash": "00", "recorded_at": "now", "checkpoint": "note", "refusal": None, "tree_size": 4}

    def checklist(self) -> list[tuple[int, str, str]] | None:
        return None


def test_a_failing_proof_is_shown_loudly_and_actions_need_the_pages_token() -> None:
    source = FakeSource()
    client = browse(source)
    page = client.get(f"/claims/{REF}/c1")
    assert page.status_code == 200 and 'role="alert"' in page.text and "root mismatch" in page.text
    assert page.text.count("FAALT") == 1 and page.text.count(">gecontroleerd<") == 1
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    forged = client.post(f"/claims/{REF}/c1/confirm", data={"token": "guess"})
    assert forged.status_code == 403 and source.acted == []
    other_site = client.post(f"/claims/{REF}/c1/confirm", data={"token": token.group(1)},
                             headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403 and source.acted == []
    done = client.post(f"/claims/{REF}/c1/confirm", data={"token": token.group(1)})
    assert done.status_code == 200 and 'id="receipt-envelope">e1<' in done.text and source.acted == [("confirm", None)]
    refused = client.post(f"/claims/{REF}/c1/contest", data={"token": token.group(1), "reason": "no-evidence"})
    assert refused.status_code == 400 and "dashboard.read-only" in refused.text


def test_pages_csv_and_language() -> None:
    client = browse(FakeSource())
    for path in ("/", "/claims", "/payments", "/flags"):
        assert client.get(path).status_code == 200, path
    assert client.get(f"/claims/{REF}/nope").status_code == 404
    download = client.get("/csv/uitstroom-per-jaar.csv")
    assert download.status_code == 200 and download.text.splitlines()[1].startswith("2024,")
    assert client.get("/csv/claims.csv?status=all").text.count("\n") == 2
    assert client.get("/csv/nothing.csv").status_code == 404
    switched = client.get("/lang/en?next=//evil.example", follow_redirects=False)
    assert switched.headers["location"] == "/"
    assert "<h1>Overview</h1>" in client.get("/").text  # the cookie set by the switch
    assert '<html lang="en">' in client.get("/").text


def test_what_a_url_or_the_ledger_says_is_escaped_but_the_charts_are_not() -> None:
    client = browse(FakeSource())
    page = client.get(f"/claims/{REF}/%3Cscript%3Ealert(1)%3C!--")
    assert page.status_code == 404 and "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert '<svg' in client.get("/").text and "&lt;svg" not in client.get("/").text


def test_the_dashboard_is_a_client_it_opens_no_database() -> None:
    """It reads through the API (signed) or a verified bundle: never the api package, the CLI or storage."""
    import ast

    root = Path(__file__).resolve().parents[2] / "dashboard"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                assert not name.startswith(("api", "cli", "ledger.infra", "ledger.application", "sqlalchemy")), \
                    f"{path.name} imports {name}"


class SlowSource(FakeSource):
    """Its log grows, and its rates take long to read until released."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 3
        self.released = threading.Event()
        self.released.set()

    def version(self) -> int:
        return self.size

    def rates(self, group_by: str) -> dict[str, Any]:
        self.released.wait(10)
        return super().rates(group_by)


def test_a_stale_page_says_which_log_size_its_figures_are_at() -> None:
    source = SlowSource()
    client = browse(source)
    page = client.get("/")
    assert page.status_code == 200 and "Cijfers bij logomvang 3." in page.text and "de nieuwste is" not in page.text
    assert "Figures at log size 3." in client.get("/?lang=en").text
    source.size, source.released = 4, threading.Event()
    stale = client.get("/")
    assert "Cijfers bij logomvang 3; de nieuwste is 4" in stale.text
    assert "Figures at log size 3; the newest is 4" in client.get("/?lang=en").text
    source.released.set()
    for _attempt in range(200):
        if "Cijfers bij logomvang 4." in client.get("/").text:
            break
        threading.Event().wait(0.01)
    assert "Cijfers bij logomvang 4." in client.get("/").text
