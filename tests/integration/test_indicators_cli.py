"""``trajectledger indicators`` and ``follow-ups`` on the operator's database and on a verified
export (``--bundle``): the same bytes, SQLite and PostgreSQL (issue 16). The history plants the
incentive behaviours, with many cooperations, so the new events are recorded, exported,
verified (the verifier re-decides them) and split the fees in ``payments``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.bundle.export import export_bundle
from ledger.synthetic import generate
from ledger.synthetic.behaviour import KONING
from tests.integration.test_reports_on_bundle import run
from tests.support import new_settings

CLIENTS = 40


@pytest.fixture
def recorded(database_url: str, tmp_path: Path) -> Iterator[tuple[Ledger, Path]]:
    ledger = Ledger(new_settings(database_url))
    history = generate(seed=3, clients=CLIENTS, operator_key=ledger.settings.operator_key, pseudonymise=ledger.pseudonym,
                       behaviour=replace(KONING, cooperation=0.5))
    for item in history.registry:
        ledger.submit(item.envelope)
    receipts = ledger.submit_batch([item.envelope for item in history.submissions])
    expected = [item.expected_verdict for item in history.submissions]
    assert [r.verdict for r in receipts] == expected  # type: ignore[union-attr]
    export_bundle(ledger, tmp_path / "bundle")
    yield ledger, tmp_path / "bundle"
    ledger.close()


def test_indicators_and_follow_ups_on_the_bundle_print_what_the_database_prints(
        recorded: tuple[Ledger, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    ledger, bundle = recorded
    outputs = {}
    for case, fmt in ((["indicators", "--by", "provider"], "json"), (["indicators", "--by", "provider"], "table"),
                      (["indicators", "--by", "year", "--parking-weeks", "4", "--only", "comparison"], "csv"),
                      (["follow-ups"], "json"), (["follow-ups", "--state", "overdue"], "table"),
                      (["payments", "--definition", "six-month-rule"], "json")):
        argv = [*case, "--peildatum", "2026-06-30", "--format", fmt]
        code, expected, _ = run(monkeypatch, capsys, argv, ledger)
        assert code == 0, argv
        code, out, err = run(monkeypatch, capsys, [*argv, "--bundle", str(bundle)])
        assert (code, out) == (0, expected), argv
        assert "verified" in err
        outputs[" ".join(case), fmt] = expected
    document = json.loads(outputs["indicators --by provider", "json"])
    declined = [m for m in document["measures"] if (m["group"], m["indicator"], m["slice"]) == ("(all)", "declined", "all")]
    assert declined[0]["denominator"] > CLIENTS and declined[0]["count"] > 0
    assert any(m["indicator"] == "placements" and m["slice"] == "as-partner" and m["count"] > 0 for m in document["measures"])
    assert document["comparison"] and "No Cure No Pay vs No Cure Less Pay" in outputs["indicators --by provider", "table"]
    plan = json.loads(outputs["follow-ups", "json"])
    assert plan["counts"]["recorded"] > 0 and plan["counts"]["overdue"] > 0
    assert 0 < plan["response"]["reached"] < plan["response"]["due"]
    owed = json.loads(outputs["payments --definition six-month-rule", "json"])["contracts"]
    assert sum(c["cooperation_cents"] for c in owed) == 0 and any(c["cooperation_cents"] > 0 for c in owed)


def test_bad_options(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        run(monkeypatch, capsys, ["indicators", "--parking-weeks", "0"])
    assert exit_.value.code == 2 and "--parking-weeks is 1 to 104" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(monkeypatch, capsys, ["indicators", "--by", "funder"])
