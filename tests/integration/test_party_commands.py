"""Onboarding through the command line (`key`, `party`) on SQLite and PostgreSQL: parties
registered, keys added and revoked, mandates granted, and what each party then signs."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from cli.main import main
from ledger.application import Ledger
from ledger.domain.checkpoint import verifier_key_string
from ledger.domain.envelope import key_id_for, load_private_key, public_key_bytes, sign
from ledger.domain.identity import client_ref
from ledger.domain.receipt import Receipt, ReceiptNotVerified, receipt_from_dict
from ledger.domain.receipt_check import verify_receipt
from ledger.settings import Settings, create_keys, load_keys
from tests.support import commission, new_id, payload

FUNDER, PROVIDER, AUDITOR = "gemeente-haarlem", "werkfit", "rekenkamer-haarlem"


@dataclass
class Cli:
    capsys: pytest.CaptureFixture[str]
    tmp: Path
    key_dir: Path

    def run(self, *argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def ok(self, *argv: str) -> str:
        code, out, err = self.run(*argv)
        assert code == 0, f"{argv} exited {code}: {out}{err}"
        return out

    def new_key(self, name: str) -> tuple[Path, str, str]:
        """`key new`: the file, and the public key and key id it printed."""
        path = self.tmp / "parties" / f"{name}.pem"
        out = self.ok("key", "new", str(path))
        public = re.search(r"^public key: (\S+)$", out, re.M)
        key_id = re.search(r"^key id:\s+(ed25519:[0-9a-f]{16})$", out, re.M)
        assert public and key_id, out
        return path, public.group(1), key_id.group(1)

    def log_size(self) -> int:
        ledger = Ledger(Settings.from_environ())
        try:
            return ledger.log_size()
        finally:
            ledger.close()

    def signed_file(self, submitter: str, key_file: Path, body: dict[str, Any]) -> str:
        path = self.tmp / f"{body['envelope_id']}.json"
        path.write_text(json.dumps(sign(body, submitter, load_private_key(key_file.read_bytes())).as_dict()))
        return str(path)

    def client(self, bsn: str = "111222333") -> str:
        return client_ref(load_keys(self.key_dir)[1], bsn)


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    create_keys(tmp_path / "keys")
    monkeypatch.setenv("TRAJECTLEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("TRAJECTLEDGER_KEY_DIR", str(tmp_path / "keys"))
    return Cli(capsys, tmp_path, tmp_path / "keys")


def accepted_at(out: str) -> int:
    found = re.fullmatch(r"accepted at log index (\d+): .* \(envelope [0-9a-f-]{36}\)", out.strip())
    assert found, out
    return int(found.group(1))


def receipt_of(out: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(out.splitlines()[0])
    return result


def test_onboarding_a_funder_a_provider_and_an_auditor_who_then_sign_with_their_key_files(cli: Cli) -> None:
    funder_file, funder_public, funder_id = cli.new_key(FUNDER)
    provider_file, _, provider_id = cli.new_key(PROVIDER)
    auditor_file, auditor_public, auditor_id = cli.new_key(AUDITOR)
    assert funder_id == key_id_for(public_key_bytes(load_private_key(funder_file.read_bytes())))
    # the provider hands over a PEM public key file instead of the base64 text
    provider_pub = cli.tmp / "werkfit.pub.pem"
    provider_pub.write_bytes(load_private_key(provider_file.read_bytes()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    assert accepted_at(cli.ok("party", "register", FUNDER, "--role", "funder", "--public-key", funder_public)) == 1
    out = cli.ok("party", "register", PROVIDER, "--role", "provider", "--public-key", str(provider_pub))
    assert accepted_at(out) == 2 and provider_id in out
    assert accepted_at(cli.ok("party", "register", AUDITOR, "--role", "auditor", "--public-key", auditor_public)) == 3
    out = cli.ok("party", "mandate", AUDITOR, "--funder", FUNDER)
    assert accepted_at(out) == 4 and "AuditMandateGranted rekenkamer-haarlem audits gemeente-haarlem" in out

    listing = cli.ok("party", "list").splitlines()
    assert listing[0].startswith("registry: 4 parties, 5 registry entries (0 refused)")
    assert re.fullmatch(rf"{FUNDER} +funder +registered at 1", listing[3]), listing
    assert re.fullmatch(rf"  key {funder_id} +live +added at 1", listing[4]), listing
    assert re.fullmatch(rf"{PROVIDER} +provider +registered at 2", listing[5]), listing
    assert re.fullmatch(rf"  key {provider_id} +live +added at 2", listing[6]), listing
    assert re.fullmatch(rf"{AUDITOR} +auditor +registered at 3", listing[7]), listing
    assert re.fullmatch(rf"  key {auditor_id} +live +added at 3", listing[8]), listing
    assert re.fullmatch(rf"  audits {FUNDER} +granted at 4", listing[9]), listing
    assert len(listing) == 10

    # each party signs with the key file it made, and the ledger accepts it
    trajectory = commission(cli.client(), provider=PROVIDER)
    code, out, _ = cli.run("submit-local", cli.signed_file(FUNDER, funder_file, trajectory))
    assert code == 0 and receipt_of(out)["verdict"] == "accepted" and receipt_of(out)["log_index"] == 5
    intake = payload("IntakeCompleted", cli.client(), trajectory_id=trajectory["trajectory_id"], rung=2, rubric_version="v1")
    code, out, _ = cli.run("submit-local", cli.signed_file(PROVIDER, provider_file, intake))
    assert code == 0 and receipt_of(out)["verdict"] == "accepted"
    # the auditor's key is a reading key: it may commission nothing
    code, out, _ = cli.run("submit-local", cli.signed_file(AUDITOR, auditor_file, commission(cli.client(), provider=PROVIDER)))
    assert code == 1 and receipt_of(out)["refusal"]["rule"] == "role.not-allowed"


def test_a_revoked_key_shows_in_the_list_and_signs_nothing_more_while_the_added_one_does(cli: Cli) -> None:
    funder_file, funder_public, _ = cli.new_key(FUNDER)
    old_file, old_public, old_id = cli.new_key(PROVIDER)
    new_file, new_public, new_id_ = cli.new_key("werkfit-2025")
    cli.ok("party", "register", FUNDER, "--role", "funder", "--public-key", funder_public)
    cli.ok("party", "register", PROVIDER, "--role", "provider", "--public-key", old_public)
    assert accepted_at(cli.ok("party", "add-key", PROVIDER, "--public-key", new_public)) == 3
    assert accepted_at(cli.ok("party", "revoke-key", PROVIDER, old_id)) == 4

    listing = cli.ok("party", "list")
    assert re.search(rf"^  key {old_id} +revoked +added at 2, revoked at 4$", listing, re.M), listing
    assert re.search(rf"^  key {new_id_} +live +added at 3$", listing, re.M), listing

    trajectory = commission(cli.client(), provider=PROVIDER)
    cli.ok("submit-local", cli.signed_file(FUNDER, funder_file, trajectory))
    intake = payload("IntakeCompleted", cli.client(), trajectory_id=trajectory["trajectory_id"], rung=2, rubric_version="v1")
    size = cli.log_size()
    code, out, _ = cli.run("submit-local", cli.signed_file(PROVIDER, old_file, intake))
    assert code == 2 and json.loads(out)["error"]["rule"] == "key.revoked"
    assert cli.log_size() == size  # not recorded
    code, out, _ = cli.run("submit-local", cli.signed_file(PROVIDER, new_file, {**intake, "envelope_id": new_id()}))
    assert code == 0 and receipt_of(out)["verdict"] == "accepted"


def test_refused_commands_exit_1_naming_the_rule_and_field_and_are_recorded(cli: Cli) -> None:
    _, public, _ = cli.new_key(PROVIDER)
    cli.ok("party", "register", PROVIDER, "--role", "provider", "--public-key", public)
    cases = [
        (("party", "register", PROVIDER, "--role", "provider", "--public-key", public), "reference.exists [payload.party_id]"),
        (("party", "register", "second-operator", "--role", "operator", "--public-key", public), "role.not-allowed [payload.role]"),
        (("party", "mandate", PROVIDER, "--funder", FUNDER), "role.not-allowed [payload.party_id]"),
        (("party", "revoke-key", PROVIDER, "ed25519:0000000000000000"), "reference.unknown [payload.key_id]"),
        (("party", "add-key", "nobody", "--public-key", public), "reference.unknown [payload.party_id]"),
    ]
    for argv, rule in cases:
        size = cli.log_size()
        code, out, _ = cli.run(*argv)
        assert code == 1, (argv, out)
        assert out.startswith(f"refused at log index {size}: ") and rule in out, out
    listing = cli.ok("party", "list")
    assert "registry: 2 parties, 7 registry entries (5 refused)" in listing
    assert "refused at 2: PartyRegistered werkfit: reference.exists [payload.party_id]" in listing


def test_malformed_commands_exit_2_and_record_nothing(cli: Cli) -> None:
    _, public, _ = cli.new_key(PROVIDER)
    size = cli.log_size()
    code, _, err = cli.run("party", "register", "jobstap", "--role", "coach", "--public-key", public)
    assert code == 2 and "field.choice [payload.role]" in err  # an unknown role is malformed, not refused
    code, _, err = cli.run("party", "register", "jobstap", "--role", "provider", "--public-key", "no-such-file.pem")
    assert code == 2 and "neither a key file nor a base64 Ed25519 public key" in err
    code, _, err = cli.run("party", "revoke-key", PROVIDER, "werkfit-key-1")
    assert code == 2 and "key-id.format [payload.key_id]" in err
    assert cli.log_size() == size


def test_the_key_the_ledger_runs_with_is_not_revoked_behind_its_back(cli: Cli) -> None:
    operator_id = key_id_for(public_key_bytes(load_keys(cli.key_dir)[0]))
    size = cli.log_size()
    code, _, err = cli.run("party", "revoke-key", "operator", operator_id)
    assert code == 2 and "rotate-operator-key" in err
    assert cli.log_size() == size
    assert re.search(rf"^  key {operator_id} +live +added at 0$", cli.ok("party", "list"), re.M)


def test_rotating_the_operator_key_in_one_command_keeps_the_log_verifying(cli: Cli) -> None:
    funder_file, funder_public, _ = cli.new_key(FUNDER)
    cli.ok("party", "register", FUNDER, "--role", "funder", "--public-key", funder_public)
    old_operator = load_keys(cli.key_dir)[0]
    old_id = key_id_for(public_key_bytes(old_operator))
    new_file, _, new_key_id = cli.new_key("operator-2025")

    out = cli.ok("party", "rotate-operator-key", str(new_file))
    assert f"accepted at log index 2: KeyAdded operator {new_key_id}" in out
    assert f"accepted at log index 3: KeyRevoked operator {old_id}" in out
    assert f"install -m 600 {new_file} {cli.key_dir}/operator.pem" in out
    code, _, err = cli.run("party", "list")  # operator.pem still holds the revoked key
    assert code == 78 and "not a live operator key" in err

    (cli.key_dir / "operator.pem").write_bytes(new_file.read_bytes())
    listing = cli.ok("party", "list")
    assert re.search(rf"^  key {old_id} +revoked +added at 0, revoked at 3$", listing, re.M), listing
    assert re.search(rf"^  key {new_key_id} +live +added at 2$", listing, re.M), listing
    code, _, err = cli.run("party", "rotate-operator-key", str(new_file))
    assert code == 2 and "the key this ledger runs with already" in err
    code, out, _ = cli.run("submit-local", cli.signed_file(FUNDER, funder_file, commission(cli.client(), provider="werkfit")))
    assert code == 1 and receipt_of(out)["refusal"]["rule"] == "reference.unknown"  # decided and signed by the new key
    refused = receipt_from_dict(receipt_of(out))  # its checkpoint is signed by the new key, not the revoked one
    assert isinstance(refused, Receipt)
    origin = refused.checkpoint.decode().split("\n", 1)[0]
    new_public = public_key_bytes(load_private_key(new_file.read_bytes()))
    assert verify_receipt(refused, [verifier_key_string(origin, new_public)]).size == refused.tree_size
    with pytest.raises(ReceiptNotVerified):
        verify_receipt(refused, [verifier_key_string(origin, public_key_bytes(old_operator))])

    cli.ok("export", str(cli.tmp / "bundle"))
    verified = cli.ok("verify", str(cli.tmp / "bundle"))
    assert "verified 5 entries" in verified


def test_rotation_carries_on_after_the_new_key_was_added_by_hand(cli: Cli) -> None:
    """The two-step rotation (add, restart, revoke) and a rerun of an interrupted one meet here."""
    new_file, new_public, new_key_id = cli.new_key("operator-2025")
    cli.ok("party", "add-key", "operator", "--public-key", new_public)
    out = cli.ok("party", "rotate-operator-key", str(new_file))
    assert f"{new_key_id} is a live operator key already (added earlier): not added again" in out
    assert "accepted at log index 2: KeyRevoked operator" in out and "KeyAdded" not in out


def test_key_new_writes_mode_0600_whatever_the_umask_and_never_overwrites(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "keys" / "werkfit.pem"
    previous = os.umask(0)
    try:
        assert main(["key", "new", str(path)]) == 0
    finally:
        os.umask(previous)
    out = capsys.readouterr().out
    assert path.stat().st_mode & 0o777 == 0o600
    written = path.read_bytes()
    public = public_key_bytes(load_private_key(written))
    assert f"key id:     {key_id_for(public)}" in out
    assert main(["key", "new", str(path)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert path.read_bytes() == written
    assert main(["key", "show", str(path)]) == 0
    assert capsys.readouterr().out == out.split("\n", 1)[1]  # the same public key and key id
