"""`trajectledger demo` builds a ledger; no BSN reaches the database files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cli.main import main
from ledger.domain.identity import client_ref
from ledger.settings import load_keys
from ledger.synthetic import generate


def test_demo_builds_an_idempotent_ledger_with_no_bsn_in_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", f"sqlite:///{tmp_path}/demo.sqlite3")
    assert main(["demo", "--clients", "40", "--seed", "7"]) == 0
    first = capsys.readouterr().out
    assert "refused (claim.unique-job)" in first and "log entries:" in first
    keys = tmp_path / "trajectledger-demo" / "keys"
    private = [keys / "operator.pem", keys / "pseudonym.key", *sorted((keys / "parties").glob("*.pem"))]
    assert len(private) > 4 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in private), "a key others can read"
    private[-1].chmod(0o644)  # as demos before 0.2 left them
    assert main(["demo", "--clients", "40", "--seed", "7"]) == 0  # same seed: same envelopes, same receipts
    assert stat.S_IMODE(private[-1].stat().st_mode) == 0o600
    again = capsys.readouterr().out
    size = [line for line in first.splitlines() if line.startswith("log entries:")]
    assert size and size == [line for line in again.splitlines() if line.startswith("log entries:")]

    operator_key, pseudonym_key = load_keys(tmp_path / "trajectledger-demo" / "keys")
    history = generate(seed=7, clients=40, operator_key=operator_key, pseudonymise=lambda bsn: "0" * 64)
    bsns = [client.bsn for client in history.clients]
    assert len(bsns) == 40
    files = sorted(tmp_path.glob("demo.sqlite3*"))
    assert files, "the demo wrote no database file"
    raw = b"".join(f.read_bytes() for f in files)
    assert len(raw) > 100_000
    for bsn in bsns:
        assert bsn.encode() not in raw, f"BSN {bsn} found in the database files"
        assert bsn.encode("utf-16-le") not in raw
    assert pseudonym_key not in raw
    # positive control: the search does find what is stored - the clients' pseudonyms
    assert client_ref(pseudonym_key, bsns[0]).encode() in raw
