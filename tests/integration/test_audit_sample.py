"""``sample`` and ``audit-result`` on a verified export (issue 15): the sample is seeded by the
root of the checkpoint the auditor names, identical across processes for one checkpoint and
different for another; findings signed by the mandated auditor give the error rate and the
amount at risk; a sample file that is not the draw it claims is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import cli.main as cli
from ledger.application import Ledger
from ledger.bundle.export import export_bundle
from ledger.domain.envelope import sign
from ledger.synthetic import AUDITOR, generate
from tests.support import finding, new_settings, verified

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Audit:
    ledger: Ledger
    directory: Path
    first: Path  # a checkpoint half-way
    second: Path  # the checkpoint after every submission
    history: Any


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audit]:
    directory = tmp_path_factory.mktemp("audit")
    ledger = Ledger(new_settings(f"sqlite:///{directory / 'ledger.sqlite3'}"))
    history = generate(seed=11, clients=100, operator_key=ledger.settings.operator_key, pseudonymise=ledger.pseudonym)
    for item in history.registry:
        ledger.submit(item.envelope)
    envelopes = [item.envelope for item in history.submissions]
    half = len(envelopes) // 2
    ledger.submit_batch(envelopes[:half])
    (directory / "first.note").write_bytes(ledger.checkpoint().note)
    ledger.submit_batch(envelopes[half:])
    (directory / "second.note").write_bytes(ledger.checkpoint().note)
    yield Audit(ledger, directory, directory / "first.note", directory / "second.note", history)
    ledger.close()


def export(audit: Audit, name: str) -> Path:
    target = audit.directory / name
    if not target.exists():
        export_bundle(audit.ledger, target)
    return target


def sample_in_process(bundle: Path, note: Path, hash_seed: int, size: int = 12) -> str:
    """``trajectledger sample`` in a new Python process (with its own hash seed: set and dict
    orders of strings differ between the processes)."""
    argv = [sys.executable, "-m", "cli.main", "sample", "--bundle", str(bundle), "--checkpoint", str(note),
            "--size", str(size), "--format", "json", "--workers", "0"]
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_sample_is_the_same_in_two_processes_and_differs_for_another_checkpoint(
        audit: Audit, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = export(audit, "bundle")
    one, two = sample_in_process(bundle, audit.first, 1), sample_in_process(bundle, audit.first, 2)
    assert one == two
    first = json.loads(one)
    assert first["seed"] == first["checkpoint"]["root_hash"] and len(first["seed"]) == 64
    assert first["method"] == "sha256-rank/1" and first["checkpoint"]["tree_size"] < audit.ledger.log_size()
    assert len(first["sample"]) == 12 == sum(a["allocated"] for a in first["allocation"])
    assert first["population_size"] == sum(a["population"] for a in first["allocation"])
    code, out, _ = run(["sample", "--bundle", str(bundle), "--checkpoint", str(audit.second), "--size", "12",
                        "--format", "json", "--workers", "0"], capsys)
    assert code == 0
    second = json.loads(out)
    assert second["seed"] != first["seed"]
    assert {r["element_id"] for r in second["sample"]} != {r["element_id"] for r in first["sample"]}
    assert second["population_size"] > first["population_size"]  # the population as of each checkpoint


def test_findings_give_error_rate_and_amount_at_risk(audit: Audit, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["sample", "--bundle", str(export(audit, "bundle")), "--checkpoint", str(audit.first),
                        "--size", "10", "--format", "json", "--workers", "0"], capsys)
    assert code == 0
    sample = json.loads(out)
    (audit.directory / "sample.json").write_text(out)
    key = audit.history.parties[AUDITOR].private_key
    outcomes = ["not-upheld", "unverifiable"] + ["upheld"] * 6  # two sampled claims stay unaudited
    for row, outcome in zip(sample["sample"], outcomes, strict=False):
        p = finding(row["client_ref"], row["element_id"], outcome, "wage-data-checked", occurred_on="2026-07-01")
        assert audit.ledger.submit(sign(p, AUDITOR, key).as_dict()).accepted
    row = sample["sample"][0]  # a provider's own "finding", and evidence from a provider: refused, and logged
    provider = audit.history.parties[row["provider"]].private_key
    own = audit.ledger.submit(sign(finding(row["client_ref"], row["element_id"]), row["provider"], provider).as_dict())
    claimed = audit.ledger.submit(sign(verified(row["client_ref"], row["element_id"], period_from="2024-01-01",
                                                period_to="2024-06-30"), row["provider"], provider).as_dict())
    assert (own.verdict, claimed.verdict) == ("refused", "refused")
    after = export(audit, "with-findings")  # verified below: step (4) re-decides every one of these
    code, out, err = run(["audit-result", "--bundle", str(after), "--sample", str(audit.directory / "sample.json"),
                          "--format", "json", "--workers", "0"], capsys)
    assert code == 0, err
    result = json.loads(out)
    overall = result["rates"][-1]
    assert (overall["stratum"], overall["audited"], overall["not_upheld"], overall["unverifiable"]) == ("(all)", 8, 1, 1)
    assert 0 < overall["low"] < overall["rate"] < overall["high"] < 1
    errors = [r for r in result["sample"] if r["finding"] in ("not-upheld", "unverifiable")]
    risk = {r["provider"]: r for r in result["at_risk"]}
    assert risk["(all)"]["in_sample_cents"] == sum(r["fee_cents"] for r in errors)
    assert risk["(all)"]["estimate_cents"] >= risk["(all)"]["in_sample_cents"]
    code, out, _ = run(["audit-result", "--bundle", str(after), "--sample", str(audit.directory / "sample.json"),
                        "--unverifiable", "excluded", "--format", "json", "--workers", "0"], capsys)
    narrower = json.loads(out)
    assert [(r["audited"], r["not_upheld"], r["unverifiable"]) for r in narrower["rates"][-1:]] == [(7, 1, 1)]
    not_upheld = [r["fee_cents"] for r in result["sample"] if r["finding"] == "not-upheld"]
    assert narrower["at_risk"][-1]["in_sample_cents"] == sum(not_upheld)  # the payments on not-upheld claims
    code, out, _ = run(["audit-result", "--bundle", str(after), "--sample", str(audit.directory / "sample.json"),
                        "--workers", "0"], capsys)
    assert code == 0 and "Error rate by provider" in out and "Amount at risk" in out


def test_a_sample_file_that_is_not_its_draw_is_refused(audit: Audit, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["sample", "--bundle", str(export(audit, "bundle")), "--checkpoint", str(audit.first),
                        "--size", "10", "--format", "json", "--workers", "0"], capsys)
    assert code == 0
    sample = json.loads(out)
    sample["sample"][0], sample["sample"][-1] = sample["sample"][-1], sample["sample"][0]
    forged = audit.directory / "forged.json"
    forged.write_text(json.dumps(sample))
    code, _, err = run(["audit-result", "--bundle", str(export(audit, "bundle")), "--sample", str(forged),
                        "--workers", "0"], capsys)
    assert code != 0 and "sample.file [--sample]: the sample file is not the draw" in err
    code, _, err = run(["sample", "--bundle", str(export(audit, "bundle")), "--checkpoint", str(audit.first),
                        "--size", "1", "--minimum-per-stratum", "3", "--workers", "0"], capsys)
    assert code != 0 and "--size" in err
