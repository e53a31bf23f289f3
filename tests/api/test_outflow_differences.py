"""``GET /v1/outflow-rates/differences``: the trajectories the definitions judge differently, as the
CLI's ``replay --format json`` lists them for the same ledger and definitions, page by page, and
scoped to the caller (a funder: its own trajectories, no verdict detail)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import cli.main as cli
from api.app import create_app
from api.settings import ApiSettings
from ledger.application import Ledger
from ledger.synthetic import generate
from ledger.synthetic.parties import MUNICIPALITY
from tests.api.bridge import ASGIBridge
from tests.api.support import ApiWorld
from tests.support import new_settings

DEFINITIONS = ["six-month-rule", "ladder-step", "voluntary-stop", "contract-6m"]
PEILDATUM = "2026-06-30"


@pytest.fixture
def synthetic(sqlite_url: str) -> Iterator[ApiWorld]:
    """The app over a ledger holding a synthetic history of 40 clients, its parties' keys at hand."""
    settings = new_settings(sqlite_url)
    app = create_app(ApiSettings(settings))
    ledger: Ledger = app.state.ledger
    history = generate(seed=5, clients=40, operator_key=settings.operator_key, pseudonymise=ledger.pseudonym)
    for item in history.registry:
        ledger.submit(item.envelope)
    ledger.submit_batch([item.envelope for item in history.submissions])
    world = ApiWorld(settings, app, ASGIBridge(app))
    world.keys.update({p.party_id: p.private_key for p in history.parties.values() if p.role != "operator"})
    yield world
    world.close()


def _walk(world: ApiWorld, party: str, limit: int, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every page, from offset 0 until the total is reached: (the items in order, the pages)."""
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    while not pages or pages[-1]["offset"] + limit < pages[-1]["total"]:
        response = world.signed(party, "GET", "/outflow-rates/differences",
                                params={**params, "limit": limit, "offset": len(pages) * limit})
        assert response.status_code == 200, response.text
        pages.append(response.json())
        items += pages[-1]["items"]
    return items, pages


def _cli_differences(world: ApiWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.delenv("TRAJECTLEDGER_KEY_DIR", raising=False)  # the CLI reads the same database, with no keys
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", world.settings.database_url)
    assert cli.main(["replay", "--definition", *DEFINITIONS, "--peildatum", PEILDATUM, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)["differences"]


def _as_cli(item: dict[str, Any]) -> dict[str, Any]:
    """An API item in the CLI document's shape (verdicts keyed by definition)."""
    verdicts = {v["definition"]: {k: v[k] for k in ("outcome", "reason", "detail", "credited_provider")}
                for v in item["verdicts"]}
    return {**item, "verdicts": verdicts}


def test_the_api_lists_what_the_cli_lists_page_by_page(synthetic: ApiWorld, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    expected = _cli_differences(synthetic, monkeypatch, capsys)
    assert len(expected) > 7, "too few differences to page through"
    params = {"definition": DEFINITIONS, "peildatum": PEILDATUM}
    items, pages = _walk(synthetic, "operator", 7, **params)
    assert [_as_cli(item) for item in items] == expected  # the same trajectories, verdicts and order
    assert len({item["trajectory_id"] for item in items}) == len(items) == pages[0]["total"]  # each exactly once
    assert len(pages) == -(-len(expected) // 7) and all(len(p["items"]) == 7 for p in pages[:-1])
    assert [d["name"] for d in pages[0]["definitions"]] == DEFINITIONS and pages[0]["peildatum"] == PEILDATUM
    # the rates say how many there are
    rates = synthetic.signed("operator", "GET", "/outflow-rates", params=params).json()
    assert rates["differences_total"] == len(expected)
    # past the end: an empty page, the same total
    past = synthetic.signed("operator", "GET", "/outflow-rates/differences", params={**params, "offset": 10_000}).json()
    assert (past["items"], past["total"]) == ([], len(expected))


def test_a_funder_sees_its_own_differences_without_details(synthetic: ApiWorld, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    expected = [d for d in _cli_differences(synthetic, monkeypatch, capsys) if d["funder"] == MUNICIPALITY]
    items, _ = _walk(synthetic, MUNICIPALITY, 50, definition=DEFINITIONS, peildatum=PEILDATUM)
    assert expected and len(items) == len(expected)
    for item, cli_item in zip(items, expected):
        assert item["trajectory_id"] == cli_item["trajectory_id"] and item["funder"] == MUNICIPALITY
        for verdict in item["verdicts"]:
            same = cli_item["verdicts"][verdict["definition"]]
            assert (verdict["outcome"], verdict["reason"], verdict["detail"]) == (same["outcome"], same["reason"], None)
            assert verdict["credited_provider"] in (None, item["provider"], "another party")


def test_bad_parameters_are_400_naming_the_field(synthetic: ApiWorld) -> None:
    response = synthetic.signed("operator", "GET", "/outflow-rates/differences", params={"definition": "no-such-rule"})
    assert (response.status_code, response.json()["field"]) == (400, "definition")
    response = synthetic.signed("operator", "GET", "/outflow-rates/differences", params={"limit": 0})
    assert (response.status_code, response.json()["field"]) == (400, "query.limit")
