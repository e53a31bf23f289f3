"""The operator's registry commands against a served ledger (``--url``): the entries are
signed with the operator key here and submitted over the API, the server's receipts verified;
no database is opened (the database setting points nowhere)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli.main import main
from ledger.domain.envelope import key_id_for, load_private_key, private_key_pem, public_key_bytes
from ledger.domain.registry.state import OPERATOR
from tests.e2e.conftest import Served

RECEIPT = r"(accepted|refused) at log index (\d+): (.*) \(envelope [0-9a-f-]{36}\)"


@pytest.fixture
def operator_key_file(served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "operator.pem"
    path.write_bytes(private_key_pem(served.ledger.settings.operator_key))
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", f"sqlite:///{tmp_path}/no-such-folder/ledger.sqlite3")
    monkeypatch.delenv("TRAJECTLEDGER_KEY_DIR", raising=False)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_onboarding_over_the_api(served: Served, operator_key_file: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    remote = ["--url", served.url + "/v1", "--key", str(operator_key_file)]
    code, out, _ = run(capsys, "key", "new", str(tmp_path / "zuid.pem"))
    public = re.search(r"^public key: (\S+)$", out, re.M)
    assert code == 0 and public
    size = served.ledger.log_size()

    code, out, err = run(capsys, "party", "register", "gemeente-zuid", "--role", "funder", "--public-key", public.group(1), *remote)
    found = re.fullmatch(RECEIPT, out.strip())
    assert code == 0 and found and found.group(1) == "accepted" and int(found.group(2)) == size, (out, err)
    assert served.ledger.current_registry().role_of("gemeente-zuid") == "funder"  # in the served ledger

    code, out, _ = run(capsys, "party", "mandate", "rekenkamer-haarlem", "--funder", "gemeente-zuid", *remote)
    assert code == 0 and "AuditMandateGranted rekenkamer-haarlem audits gemeente-zuid" in out
    code, out, _ = run(capsys, "party", "mandate", "werkfit", "--funder", "gemeente-zuid", *remote)
    assert code == 1 and out.startswith("refused at log index") and "role.not-allowed [payload.party_id]" in out

    zuid_key = key_id_for(public_key_bytes_of(tmp_path / "zuid.pem"))
    code, out, _ = run(capsys, "party", "revoke-key", "gemeente-zuid", zuid_key, *remote)
    assert code == 0 and f"KeyRevoked gemeente-zuid {zuid_key}" in out
    operator_id = key_id_for(public_key_bytes(served.ledger.settings.operator_key))
    code, _, err = run(capsys, "party", "revoke-key", OPERATOR, operator_id, *remote)
    assert code == 2 and "rotate-operator-key" in err

    code, out, _ = run(capsys, "party", "list", *remote)
    lines = out.splitlines()
    parties = len(served.ledger.current_registry().parties)
    assert code == 0 and lines[0].startswith(f"registry: {parties} parties (from the served ledger")
    assert any(re.fullmatch(rf"  key {zuid_key} +revoked", line) for line in lines), lines
    assert any(re.fullmatch(r"  audits gemeente-zuid", line) for line in lines), lines

    code, out, _ = run(capsys, "rules", "adopt", "2", *remote)
    assert code == 0 and "RulesAdopted version 2" in out
    assert served.ledger.current_registry().rules == 2

    size = served.ledger.log_size()
    code, _, err = run(capsys, "party", "register", "Gemeente Zuid", "--role", "funder", "--public-key", public.group(1), *remote)
    assert code == 2 and err.startswith("error: the server answered HTTP 400") and "[payload.party_id]" in err, err
    assert served.ledger.log_size() == size  # malformed: not recorded
    code, out, _ = run(capsys, "party", "add-key", "gemeente-zuid", "--public-key", public.group(1), *remote)
    assert code == 1 and "is registered already" in out  # refused, and recorded as refused


def test_a_server_that_does_not_answer_is_one_line(operator_key_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "party", "mandate", "a", "--funder", "b", "--url", "http://127.0.0.1:9", "--key", str(operator_key_file))
    assert code == 2 and out == "" and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def public_key_bytes_of(path: Path) -> bytes:
    return public_key_bytes(load_private_key(path.read_bytes()))

