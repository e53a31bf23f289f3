"""``trajectledger receipt [--tlog-proof]`` and ``receipt-verify`` (offline): what the ledger
prints verifies against the envelope and the operator's verifier key; a changed receipt, the
wrong envelope or key does not (exit 3); an input that is not a receipt is malformed (exit 2)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.main import main
from ledger.application import Ledger
from ledger.domain.checkpoint import verifier_key_string
from ledger.domain.envelope import b64encode, public_key_bytes, sign
from ledger.settings import Settings, create_keys, load_keys


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_a_printed_receipt_verifies_offline_and_a_changed_one_does_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    create_keys(tmp_path / "keys")
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", f"sqlite:///{tmp_path}/ledger.sqlite3")
    monkeypatch.setenv("TRAJECTLEDGER_KEY_DIR", str(tmp_path / "keys"))
    operator = load_keys(tmp_path / "keys")[0]
    envelopes = [sign({"envelope_id": str(uuid.uuid4()), "type": "PartyRegistered", "occurred_on": "2024-01-01",
                       "party_id": f"werkfit-{n}", "role": "provider",
                       "public_key": b64encode(public_key_bytes(Ed25519PrivateKey.generate()))}, "operator",
                      operator).as_dict() for n in range(3)]
    ledger = Ledger(Settings.from_environ())
    try:
        ledger.submit_batch(envelopes)
    finally:
        ledger.close()
    envelope_id = envelopes[1]["payload"]["envelope_id"]
    files = {name: tmp_path / name for name in ("receipt.json", "r.tlog-proof", "envelope.json", "other.json", "vkey")}
    code, out = run(capsys, "receipt", envelope_id)
    assert code == 0 and json.loads(out)["receipt_version"] == 2
    files["receipt.json"].write_text(out)
    code, out = run(capsys, "receipt", envelope_id, "--tlog-proof")
    assert code == 0 and out.startswith("c2sp.org/tlog-proof@v1\nextra ")
    files["r.tlog-proof"].write_text(out)
    files["envelope.json"].write_text(json.dumps(envelopes[1]))
    files["other.json"].write_text(json.dumps(envelopes[2]))
    files["vkey"].write_text(run(capsys, "checkpoint", "--verifier-key")[1])

    def verify(receipt: str, envelope: str = "envelope.json", key: str = "vkey") -> tuple[int, str]:
        return run(capsys, "receipt-verify", str(files.get(receipt, receipt)), "--envelope", str(files[envelope]),
                   "--trusted-operator-key", str(files.get(key, key)))

    for receipt in ("receipt.json", "r.tlog-proof"):
        code, out = verify(receipt)
        assert code == 0 and out.startswith(f"OK: entry 2 (accepted) of envelope {envelope_id} is in the log of 4 ")
        assert verify(receipt, envelope="other.json")[0] == 3
    other_key = tmp_path / "other.vkey"
    other_key.write_text(verifier_key_string(files["vkey"].read_text().split("+")[0],
                                             public_key_bytes(Ed25519PrivateKey.generate())))
    assert verify("receipt.json", key=str(other_key))[0] == 3
    changed = json.loads(files["receipt.json"].read_text()) | {"recorded_at": "2024-01-01T00:00:00.000000Z"}
    (tmp_path / "changed.json").write_text(json.dumps(changed))
    code, out = verify(str(tmp_path / "changed.json"))
    assert code == 3 and out.startswith("FAILED: receipt.invalid [recorded_at]")
    (tmp_path / "bad.json").write_text("[1]")
    assert verify(str(tmp_path / "bad.json"))[0] == 2
