"""Crash safety: the ledger process is killed (SIGKILL) in the middle of batch ingest, at a few
random moments, on SQLite and on PostgreSQL.

A child process (``tests/integration/ingest_child.py``) submits pre-signed batches - parties
registered by the operator, trajectories commissioned by a funder, each batch repeating one
envelope of the one before - and writes the receipts of each batch to a file (fsynced) before
the next. After the kill: every receipt the child wrote is in the log unchanged, the log is
dense and the dossiers consistent, the exported bundle verifies, and submitting every batch
again records each missing envelope exactly once and returns the original receipt for the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import Ledger
from ledger.bundle.export import export_bundle
from ledger.domain.envelope import b64encode, public_key_bytes, sign
from ledger.domain.receipt import Receipt, receipt_from_dict
from ledger.settings import Settings, create_keys, load_keys
from ledger.verify import verify_bundle
from tests.consistency import assert_consistent
from tests.support import commission, registry

ROOT = Path(__file__).resolve().parents[2]
FUNDER, PROVIDERS = "gemeente-haarlem", ("werkfit", "jobstap", "baanbrug")
BATCHES, REGISTRATIONS, COMMISSIONS = 14, 4, 24


def envelope(payload: dict[str, Any], submitter: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    return sign(payload, submitter, key).as_dict()


def registration(party: str, role: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    return registry("PartyRegistered", party_id=party, role=role, public_key=b64encode(public_key_bytes(key)))


def make_batches(operator_key: Ed25519PrivateKey, funder_key: Ed25519PrivateKey, round_: int) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = []
    for b in range(BATCHES):
        batch = [envelope(registration(f"r{round_}-b{b}-p{n}", "provider", Ed25519PrivateKey.generate()), "operator", operator_key)
                 for n in range(REGISTRATIONS)]
        batch += [envelope(commission(hashlib.sha256(f"{round_}/{b}/{n % 8}".encode()).hexdigest(), PROVIDERS[n % 3]),
                           FUNDER, funder_key) for n in range(COMMISSIONS)]
        if batches:
            batch.append(batches[-1][REGISTRATIONS])  # the same envelope again: recorded once
        batches.append(batch)
    return batches


def written_receipts(out: Path) -> list[Receipt]:
    """The receipts of every batch the child finished writing (a torn last line is not one)."""
    if not out.exists():
        return []
    receipts = []
    for line in out.read_bytes().split(b"\n")[:-1]:
        for item in json.loads(line):
            assert "invalid" not in item, item
            receipt = receipt_from_dict(item)
            assert isinstance(receipt, Receipt), item
            receipts.append(receipt)
    return receipts


def lines(out: Path) -> int:
    return out.read_bytes().count(b"\n") if out.exists() else 0


def run_and_kill(database_url: str, keys: Path, batch_dir: Path, out: Path, after_lines: int, delay: float) -> None:
    """Start the child, wait until it has written ``after_lines`` batches' receipts, wait
    ``delay`` seconds more, and SIGKILL it - before it has finished."""
    log = Path(str(out) + ".log")
    with log.open("wb") as output:
        child = subprocess.Popen([sys.executable, "-m", "tests.integration.ingest_child", database_url, str(keys),
                                  str(batch_dir), str(out)], cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        ready = Path(str(out) + ".ready")
        while not ready.exists() or lines(out) < after_lines:
            if child.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the child ended or stalled before the kill: {log.read_text()[-3000:]}")
            time.sleep(0.001)
        time.sleep(delay)
        assert child.poll() is None, "the child finished every batch before the kill: give it more batches"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.mark.slow
def test_killed_mid_ingest_loses_nothing_it_answered(database_url: str, tmp_path: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    create_keys(tmp_path / "keys")
    operator_key, pseudonym_key = load_keys(tmp_path / "keys")
    settings = Settings(database_url, operator_key, pseudonym_key)
    funder_key = Ed25519PrivateKey.generate()
    ledger = Ledger(settings)
    cast = [envelope(registration(FUNDER, "funder", funder_key), "operator", operator_key)]
    cast += [envelope(registration(p, "provider", Ed25519PrivateKey.generate()), "operator", operator_key) for p in PROVIDERS]
    assert all(isinstance(r, Receipt) and r.accepted for r in ledger.submit_batch(cast))
    ledger.close()

    # kill: while the first batch is in flight, a few batches in, and later on (random moments within)
    moments = [(0, rng.uniform(0, 0.15)), (rng.randint(1, 3), rng.uniform(0, 0.1)), (rng.randint(4, 7), rng.uniform(0, 0.1))]
    for round_, (after_lines, delay) in enumerate(moments):
        context = f"seed {seed}, round {round_}, kill after {after_lines} batches + {delay:.3f}s"
        batches = make_batches(operator_key, funder_key, round_)
        batch_dir = tmp_path / f"batches-{round_}"
        batch_dir.mkdir()
        for n, batch in enumerate(batches):
            (batch_dir / f"{n:04d}.json").write_text(json.dumps(batch))
        ledger = Ledger(settings)
        before = ledger.log_size()
        ledger.close()

        out = tmp_path / f"receipts-{round_}.jsonl"
        run_and_kill(database_url, tmp_path / "keys", batch_dir, out, after_lines, delay)

        ledger = Ledger(settings)
        answered = written_receipts(out)
        assert len(answered) < sum(len(b) for b in batches), context
        for receipt in answered:  # every answer the child gave survived the kill, as given
            assert ledger.receipt(receipt.envelope_id) == receipt, context
        assert_consistent(ledger)  # includes: the log is dense
        recorded_after_kill = ledger.log_size()
        assert recorded_after_kill >= before + len({r.envelope_id for r in answered}), context
        summary = export_bundle(ledger, tmp_path / f"bundle-{round_}")
        verified = verify_bundle(tmp_path / f"bundle-{round_}")
        assert verified.tree_size == summary.tree_size == recorded_after_kill, context

        distinct = {e["payload"]["envelope_id"] for batch in batches for e in batch}
        stored = {eid: ledger.receipt(eid) for eid in distinct}
        kept = {eid: r for eid, r in stored.items() if r is not None}
        assert recorded_after_kill == before + len(kept), context  # nothing recorded twice or half
        assert len(kept) < len(distinct), context  # the kill did cut the ingest short
        for batch in batches:  # the client, not knowing what got in, sends everything again
            for item, result in zip(batch, ledger.submit_batch(batch), strict=True):
                assert isinstance(result, Receipt), (context, result)
                eid = item["payload"]["envelope_id"]
                if eid in kept:
                    assert result == kept[eid], context  # the original receipt, not a new entry
                else:
                    kept[eid] = result
        assert ledger.log_size() == before + len(distinct), context
        assert {r.log_index for r in kept.values()} == set(range(before, before + len(distinct))), context
        assert all(ledger.receipt(eid) == r for eid, r in kept.items()), context
        assert_consistent(ledger)
        ledger.close()

    ledger = Ledger(settings)
    final = ledger.log_size()
    assert verify_bundle(export_bundle(ledger, tmp_path / "bundle-final").directory).tree_size == final
    ledger.close()
