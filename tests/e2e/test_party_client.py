"""The party's own commands against a served ledger, no Python needed: ``pseudonym --url``
(one line per BSN, a bad line named by its number and the rest still answered), ``get PATH``
(any signed read) and ``export-download FILE`` (then ``verify FILE``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cli.main import main
from ledger.domain.envelope import load_private_key, sign
from ledger.domain.identity import client_ref
from tests.e2e.conftest import Served
from tests.e2e.test_cli_submit import FUNDER
from tests.support import VALID_BSNS, commission, registry


def as_party(served: Served, party: str = FUNDER) -> list[str]:
    return ["--url", served.url + "/v1", "--party", party, "--key", str(served.key_files[party])]


def test_pseudonyms_over_the_api_name_a_bad_line_and_answer_the_rest(
        served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{VALID_BSNS[0]}\n123456789\n\n{VALID_BSNS[1]}\n"))
    code = main(["pseudonym", *as_party(served)])
    captured = capsys.readouterr()
    key = served.ledger.settings.pseudonym_key
    assert captured.out.split() == [client_ref(key, VALID_BSNS[0]), client_ref(key, VALID_BSNS[1])]
    assert captured.err.startswith("line 2: bsn.") and VALID_BSNS[0] not in captured.err
    assert code == 2


def test_the_environment_stands_in_for_the_options(
        served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRAJECTLEDGER_URL", served.url)
    monkeypatch.setenv("TRAJECTLEDGER_PARTY", FUNDER)
    monkeypatch.setenv("TRAJECTLEDGER_PARTY_KEY", str(served.key_files[FUNDER]))
    monkeypatch.setattr("sys.stdin", io.StringIO(VALID_BSNS[2] + "\n"))
    assert main(["pseudonym"]) == 0
    assert capsys.readouterr().out.strip() == client_ref(served.ledger.settings.pseudonym_key, VALID_BSNS[2])
    monkeypatch.delenv("TRAJECTLEDGER_PARTY_KEY")
    assert main(["get", "/parties"]) == 2
    assert "--key is missing (or set TRAJECTLEDGER_PARTY_KEY)" in capsys.readouterr().err


def test_get_prints_a_signed_read_and_names_a_problem(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    ref = served.refs[0]
    assert served.ledger.submit(_signed_commission(served, ref)).accepted
    assert main(["get", f"/v1/dossiers/{ref}/trajectories", *as_party(served)]) == 0
    page = json.loads(capsys.readouterr().out)
    assert [t["provider"] for t in page["items"]] == ["werkfit"]
    assert main(["get", "parties", "--param", "limit=2", *as_party(served)]) == 0
    assert len(json.loads(capsys.readouterr().out)["items"]) == 2
    assert main(["get", "/no-such-thing", *as_party(served)]) == 2
    assert capsys.readouterr().err.startswith("error: 404")


def test_export_download_then_verify(served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "export.tar.gz"
    mandate = registry("AuditMandateGranted", party_id="rekenkamer-haarlem", funder=FUNDER)
    assert served.ledger.submit(sign(mandate, "operator", served.ledger.settings.operator_key).as_dict()).accepted
    assert main(["export-download", str(file), *as_party(served, "rekenkamer-haarlem")]) == 0
    assert f"wrote {file}" in capsys.readouterr().out
    assert main(["verify", str(file)]) == 0
    assert f"verified {served.ledger.log_size()} entries" in capsys.readouterr().out


def _signed_commission(served: Served, ref: str) -> dict[str, object]:
    return sign(commission(ref), FUNDER, load_private_key(served.key_files[FUNDER].read_bytes())).as_dict()
