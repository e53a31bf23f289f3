"""The commands that only read (``status``, ``replay``, ``flags``, ``payments``, ``read-models``,
``indicators``, ``follow-ups``, ``receipt``) run on
the operator's database with no keys configured, and print what they print with the keys; the
commands that write or sign still refuse to start without them; a read never creates a ledger."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import delete

from cli.main import main
from ledger.application import Ledger
from ledger.domain.envelope import private_key_pem
from ledger.infra.storage.tables import checkpoints
from ledger.reader import LedgerReader
from ledger.settings import OPERATOR_KEY_FILE, PSEUDONYM_KEY_FILE
from ledger.synthetic import generate
from tests.support import new_settings

READS = [
    ["status"],
    ["replay", "--peildatum", "2026-06-30", "--format", "json"],
    ["replay", "--as-known-at", "2099-01-01", "--by", "funder", "--format", "json"],
    ["flags", "--format", "json"],
    ["payments", "--peildatum", "2026-06-30", "--format", "json"],
    ["read-models"],
    ["indicators", "--peildatum", "2026-06-30", "--format", "json"],
    ["follow-ups", "--peildatum", "2026-06-30", "--format", "json"],
]


@pytest.fixture
def recorded(database_url: str, tmp_path: Path) -> tuple[str, Path]:
    """A ledger's database (SQLite, PostgreSQL) with a synthetic history, and the folder holding its keys."""
    url = database_url
    settings = new_settings(url)
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / OPERATOR_KEY_FILE).write_bytes(private_key_pem(settings.operator_key))
    (keys / PSEUDONYM_KEY_FILE).write_bytes(settings.pseudonym_key)
    ledger = Ledger(settings)
    history = generate(seed=3, clients=12, operator_key=settings.operator_key, pseudonymise=ledger.pseudonym)
    for item in history.registry:
        ledger.submit(item.envelope)
    ledger.submit_batch([item.envelope for item in history.submissions])
    ledger.close()
    return url, keys


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_reads_need_no_keys_and_print_what_they_print_with_them(
        recorded: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url, keys = recorded
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", url)
    for argv in READS:
        monkeypatch.setenv("TRAJECTLEDGER_KEY_DIR", str(keys))
        with_keys = _run(argv, capsys)
        monkeypatch.delenv("TRAJECTLEDGER_KEY_DIR")
        without = _run(argv, capsys)
        assert with_keys[0] == 0 and without == (0, with_keys[1], ""), argv
    # what was compared is worth comparing
    size = LedgerReader(url)
    try:
        assert size.log_size() > 50 and len(size.registry().state.parties) > 3
    finally:
        size.close()
    monkeypatch.delenv("TRAJECTLEDGER_KEY_DIR", raising=False)
    code, out, _ = _run(["payments", "--peildatum", "2026-06-30", "--format", "json"], capsys)
    assert code == 0 and sum(c["owed_cents"] for c in json.loads(out)["contracts"]) > 0
    code, out, _ = _run(["indicators", "--peildatum", "2026-06-30", "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["measures"]


def test_a_receipt_needs_no_keys_and_is_the_one_printed_with_them(
        recorded: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url, keys = recorded
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", url)
    reader = LedgerReader(url)
    try:
        entries = reader.entries(0, 10_000)
    finally:
        reader.close()
    # the genesis entry, one in the middle of a batch, the last one: a proof of each shape
    chosen = [entries[0], entries[len(entries) // 2], entries[-1]]
    monkeypatch.setenv("TRAJECTLEDGER_KEY_DIR", str(keys))
    vkey = tmp_path / "vkey"
    vkey.write_text(_run(["checkpoint", "--verifier-key"], capsys)[1])
    for index, body in chosen:
        envelope_id = body["envelope"]["payload"]["envelope_id"]
        for extra in ([], ["--tlog-proof"]):
            monkeypatch.setenv("TRAJECTLEDGER_KEY_DIR", str(keys))
            with_keys = _run(["receipt", envelope_id, *extra], capsys)
            monkeypatch.delenv("TRAJECTLEDGER_KEY_DIR")
            without = _run(["receipt", envelope_id, *extra], capsys)
            assert with_keys[0] == 0 and without == (0, with_keys[1], ""), (index, extra)
        printed = tmp_path / "receipt.tlog-proof"
        printed.write_text(without[1])
        envelope = tmp_path / "envelope.json"
        envelope.write_text(json.dumps(body["envelope"]))
        code, out, _ = _run(["receipt-verify", str(printed), "--envelope", str(envelope),
                             "--trusted-operator-key", str(vkey)], capsys)
        assert code == 0 and out.startswith(f"OK: entry {index} "), out
    code, out, err = _run(["receipt", "00000000-0000-4000-8000-000000000000"], capsys)
    assert (code, out) == (2, "") and "no envelope" in err


def test_a_receipt_with_no_stored_checkpoint_asks_for_the_keys_that_would_sign_one(
        recorded: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = recorded
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", url)
    monkeypatch.delenv("TRAJECTLEDGER_KEY_DIR", raising=False)
    reader = LedgerReader(url)
    try:
        last_index, last = reader.entries(0, 10_000)[-1]
        with reader.engine.begin() as connection:  # as a ledger written before every write stored its checkpoint
            connection.execute(delete(checkpoints).where(checkpoints.c.tree_size > last_index))
    finally:
        reader.close()
    code, out, err = _run(["receipt", last["envelope"]["payload"]["envelope_id"]], capsys)
    assert (code, out) == (78, "") and f"no stored checkpoint covers entry {last_index}" in err
    assert "TRAJECTLEDGER_KEY_DIR" in err


def test_writing_and_signing_still_refuse_without_keys(recorded: tuple[str, Path], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = recorded
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", url)
    monkeypatch.delenv("TRAJECTLEDGER_KEY_DIR", raising=False)
    before = LedgerReader(url)
    size = before.log_size()
    before.close()
    envelopes = tmp_path / "envelopes.json"
    envelopes.write_text("[]")
    for argv in (["submit-local", str(envelopes)], ["checkpoint"], ["check"]):  # they sign or write
        code, out, err = _run(argv, capsys)
        assert (code, out) == (78, "") and "TRAJECTLEDGER_KEY_DIR is not set" in err, argv
    after = LedgerReader(url)
    assert after.log_size() == size  # nothing was written
    after.close()


def test_a_read_never_creates_a_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TRAJECTLEDGER_KEY_DIR", raising=False)
    missing = tmp_path / "typo.sqlite3"
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", f"sqlite:///{missing}")
    code, out, err = _run(["status"], capsys)
    assert (code, out) == (78, "") and f"cannot open the SQLite database {missing}" in err and "no such file" in err
    assert not missing.exists()

    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", f"sqlite:///{empty}")
    code, out, err = _run(["replay", "--format", "json"], capsys)
    assert (code, out) == (78, "") and "holds no ledger" in err
