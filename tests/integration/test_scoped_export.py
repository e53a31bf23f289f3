"""An auditor's export scoped to its mandate (``export --for``, ``GET /v1/log/export``), on
SQLite and PostgreSQL: it verifies (every root and consistency proof over the whole log), holds
no entry body of a funder outside the mandate (the raw bytes of the directory and of the
``.tar.gz`` are searched), says which dossiers it could only partly re-decide and why, and the
reports on it cover the dossiers it holds whole, saying what they leave out."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import cli.main as cli
from api.exports import export_archive
from ledger.application import Ledger
from ledger.bundle import layout
from ledger.bundle.export import ExportError, export_bundle
from ledger.domain.envelope import b64encode, public_key_bytes, sign
from ledger.domain.payloads import REGISTRY_TYPES
from ledger.synthetic import MUNICIPALITY, UWV, derive_key, generate
from ledger.verify import MalformedInput, VerificationFailed, verify_bundle
from projections.definitions.registry import installed
from projections.history import fold
from projections.replay import replay_ledger
from projections.reports import replay_document
from projections.source import ListSource
from tests.conftest import fresh_postgres_url
from tests.support import claim, commission, new_id, new_settings, payload, registry

SEED, CLIENTS = 7, 30
MANDATED = "rekenkamer-gemeente"  # audits gemeente-haarlem only
IDLE = "rekenkamer-zonder"  # an auditor without a mandate
OWN, OTHER = "baanzicht", "jobroute-haarlem"  # a provider of gemeente-haarlem, one of uwv alone


@dataclass(frozen=True)
class Scoped:
    ledger: Ledger
    full: Path
    bundle: Path  # export --for MANDATED
    archive: Path  # what GET /v1/log/export serves MANDATED
    crafted: str  # a client with a Haarlem trajectory, a UWV one, a contest by UWV and a refused stray write
    crafted_trajectory: str


def _submit(ledger: Ledger, submitter: str, body: dict[str, Any]) -> str:
    key = ledger.settings.operator_key if submitter == "operator" else derive_key(SEED, submitter)
    return ledger.submit(sign(body, submitter, key).as_dict()).verdict


def record(url: str, directory: Path) -> Scoped:
    ledger = Ledger(new_settings(url))
    history = generate(seed=SEED, clients=CLIENTS, operator_key=ledger.settings.operator_key,
                       pseudonymise=ledger.pseudonym)
    for item in history.registry:
        ledger.submit(item.envelope)
    envelopes = [item.envelope for item in history.submissions]
    for start in range(0, len(envelopes), 100):
        ledger.submit_batch(envelopes[start:start + 100])
    key, idle_key = (b64encode(public_key_bytes(Ed25519PrivateKey.generate())) for _ in range(2))
    for body in (registry("PartyRegistered", party_id=MANDATED, role="auditor", public_key=key),
                 registry("PartyRegistered", party_id=IDLE, role="auditor", public_key=idle_key),
                 registry("AuditMandateGranted", party_id=MANDATED, funder=MUNICIPALITY)):
        assert _submit(ledger, "operator", body) == "accepted"
    ref, own, other = ledger.pseudonym("123456782"), new_id(), new_id()
    haarlem_claim = claim(ref, own, kvk="87654321", job_start="2024-06-01")
    for submitter, body, verdict in (
        (MUNICIPALITY, commission(ref, OWN, own), "accepted"),
        (UWV, commission(ref, OTHER, other), "accepted"),  # outside-mandate
        (OWN, haarlem_claim, "accepted"),
        (UWV, payload("PlacementContested", ref, "2024-06-05", claim_id=haarlem_claim["claim_id"],
                      reason="found-herself"), "accepted"),  # other-submitter
        (OWN, payload("ActivityRecorded", ref, "2024-03-01", trajectory_id=new_id(), instrument=30),
         "refused"),  # unattributed
        (MUNICIPALITY, payload("PlacementConfirmed", ref, "2024-06-10", claim_id=haarlem_claim["claim_id"]),
         "accepted"),  # held, after the dossier's first withheld entry: not re-decided
    ):
        assert _submit(ledger, submitter, body) == verdict, body["type"]
    export_bundle(ledger, directory / "full")
    export_bundle(ledger, directory / "scoped", for_auditor=MANDATED)
    served = export_archive(ledger, MANDATED)
    archive = directory / served.filename
    shutil.copy(served.path, archive)
    served.remove()
    return Scoped(ledger, directory / "full", directory / "scoped", archive, ref, own)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def scoped(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scoped]:
    """One recorded history per database for the module: the tests only read it (an export at
    the same tree size signs no new checkpoint)."""
    directory = tmp_path_factory.mktemp("scoped")
    urls = iter([f"sqlite:///{directory}/ledger.sqlite3"]) if request.param == "sqlite" else fresh_postgres_url()
    for url in urls:
        found = record(url, directory)
        yield found
        found.ledger.close()


def bodies(bundle: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (bundle / layout.ENTRIES).read_bytes().splitlines()]


def full_dossiers(s: Scoped) -> dict[str, Any]:
    return fold((body.pop("log_index"), body) for body in bodies(s.full))


def only_uwv(s: Scoped) -> set[str]:
    """Client_refs whose trajectories and benefits are all UWV's (from the full export)."""
    funders = {ref: {t["funder"] for t in d.trajectories.values()} | {b["funder"] for b in d.benefits.values()}
               for ref, d in full_dossiers(s).items()}
    return {ref for ref, found in funders.items() if found == {UWV}}


def files_of(s: Scoped) -> dict[str, dict[str, bytes]]:
    """The raw bytes of every file: the bundle directory's, and the members of the .tar.gz."""
    directory = {p.name: p.read_bytes() for p in s.bundle.iterdir()}
    with tarfile.open(s.archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    assert {name.rsplit("/", 1)[-1] for name in members} == set(directory) == {layout.MANIFEST, *layout.FILES}
    return {"directory": directory, "archive": members}


def without_registry(files: dict[str, bytes]) -> bytes:
    """Everything but the registry entries (public: the parties and their keys), which must be
    registry payloads and nothing else."""
    registry_lines = [line for name, data in files.items() if name.endswith(layout.REGISTRY)
                      for line in data.splitlines()]
    assert registry_lines and all(json.loads(line)["envelope"]["payload"]["type"] in REGISTRY_TYPES
                                  for line in registry_lines)
    kept = [line for name, data in files.items() if not name.endswith(layout.REGISTRY)
            for line in data.splitlines() if line not in registry_lines]
    return b"\n".join(kept)


def test_a_scoped_export_verifies_and_says_which_dossiers_it_holds_in_part(scoped: Scoped) -> None:
    full, mine = verify_bundle(scoped.full, workers=0), verify_bundle(scoped.bundle, workers=0)
    assert full.scope is None and mine.scope is not None
    assert mine.tree_size == full.tree_size and mine.checkpoints == full.checkpoints
    assert (scoped.bundle / layout.CHECKPOINT).read_bytes() == (scoped.full / layout.CHECKPOINT).read_bytes()
    scope = mine.scope
    assert (scope.auditor, scope.funders) == (MANDATED, [MUNICIPALITY])
    held = sum(1 for body in bodies(scoped.bundle) if "envelope" in body)
    assert 0 < scope.withheld_entries == full.tree_size - held
    crafted = scope.partial[scoped.crafted]
    assert dict(crafted.reasons) == {"outside-mandate": 1, "other-submitter": 1, "unattributed": 1}
    assert crafted.held_after == 2  # the claim and its confirmation: signed and in the log, not re-decided
    assert set(scope.by_reason) == {"outside-mandate", "other-submitter", "unattributed"}
    dossiers = full_dossiers(scoped)
    whole = {b["envelope"]["payload"]["client_ref"] for b in bodies(scoped.bundle)
             if "envelope" in b and "client_ref" in b["envelope"]["payload"]} - set(scope.partial)
    assert mine.clients == len(whole) > 0 and full.clients == len(dossiers)
    for ref in whole:  # held whole: nothing of another funder in the operator's dossier
        assert {t["funder"] for t in dossiers[ref].trajectories.values()} <= {MUNICIPALITY}
        assert {b["funder"] for b in dossiers[ref].benefits.values()} <= {MUNICIPALITY}


def test_a_scoped_export_holds_no_entry_body_of_a_funder_outside_the_mandate(scoped: Scoped) -> None:
    theirs = only_uwv(scoped)
    assert theirs, "the history has no client of UWV alone: the test would prove nothing"
    everything_full = {p.name: p.read_bytes() for p in scoped.full.iterdir()}
    assert b'"uwv"' in without_registry(everything_full)  # the search finds it where it is
    assert all(ref.encode() in everything_full[layout.ENTRIES] for ref in theirs)
    for where, files in files_of(scoped).items():
        rest = without_registry(files)
        assert b'"uwv"' not in rest and b'"jobroute-haarlem"' not in rest, where
        raw = b"".join(files.values())
        leaked = [ref for ref in theirs if ref.encode() in raw]
        assert not leaked, f"{where}: client_refs of UWV alone: {leaked}"
        receipts = next(data for name, data in files.items() if name.endswith(layout.RECEIPTS))
        entries = next(data for name, data in files.items() if name.endswith(layout.ENTRIES))
        assert receipts.count(b"\n") == sum(1 for line in entries.splitlines() if line.startswith(layout.HELD_LINE))


def test_the_archive_verifies_like_the_directory(scoped: Scoped) -> None:
    code = cli.main(["verify", str(scoped.archive)])
    assert code == 0


def _expected_replay(s: Scoped, whole: set[str], names: list[str], peildatum: date) -> Any:
    kept = [body for body in bodies(s.full)  # the registry, and the dossiers held whole
            if body["envelope"]["payload"].get("client_ref") in (None, *whole)]
    for body in kept:
        body.pop("log_index")
    definitions = installed()
    result = replay_ledger(ListSource(kept), None, definitions.resolve(names), peildatum, None, definitions)
    return json.loads(json.dumps(replay_document(result, "provider")))


def test_reports_on_a_scoped_bundle_cover_the_dossiers_held_whole_and_say_what_is_left_out(
        scoped: Scoped, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "open_ledger", lambda: pytest.fail("a report on a bundle opened the ledger"))
    verified = verify_bundle(scoped.bundle, workers=0)
    assert verified.scope is not None
    names = ["six-month-rule", "contract-6m", "employed-q2"]
    code = cli.main(["replay", "--bundle", str(scoped.archive), "--definition", *names, "--peildatum", "2026-06-30",
                     "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert f"{verified.scope.withheld_entries} withheld" in out.err
    assert f"the {len(verified.scope.partial)} held in part are left out" in out.err
    whole = {b["envelope"]["payload"]["client_ref"] for b in bodies(scoped.bundle)
             if "envelope" in b and "client_ref" in b["envelope"]["payload"]} - set(verified.scope.partial)
    document = json.loads(out.out)
    stated = document.pop("scope")
    assert (stated["auditor"], stated["funders"]) == (MANDATED, [MUNICIPALITY])
    assert stated["withheld_entries"] == verified.scope.withheld_entries
    assert stated["partial_dossiers_left_out"] == sorted(verified.scope.partial)
    assert document == _expected_replay(scoped, whole, names, date(2026, 6, 30))
    for command in (["flags"], ["payments", "--peildatum", "2026-06-30"]):
        code = cli.main([*command, "--bundle", str(scoped.bundle), "--format", "json"])
        out = capsys.readouterr()
        assert code == 0 and "withheld" in out.err
        reported = json.loads(out.out)
        assert reported["scope"]["partial_dossiers_left_out"] == sorted(verified.scope.partial)
        elsewhere = json.dumps({k: v for k, v in reported.items() if k != "scope"})
        assert scoped.crafted not in elsewhere and scoped.crafted_trajectory not in elsewhere


def test_a_withheld_line_is_part_of_every_root(scoped: Scoped, tmp_path: Path) -> None:
    bent = tmp_path / "bent"
    shutil.copytree(scoped.bundle, bent)
    lines = (bent / layout.ENTRIES).read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if not line.startswith(layout.HELD_LINE))
    digit = lines[at].index(b'"leaf_hash":"') + len(b'"leaf_hash":"')
    lines[at] = lines[at][:digit] + (b"1" if lines[at][digit:digit + 1] == b"0" else b"0") + lines[at][digit + 1:]
    _rewrite(bent, lines)
    with pytest.raises(VerificationFailed) as failed:
        verify_bundle(bent, workers=0)
    assert (failed.value.step, failed.value.rule) == (5, "checkpoint.root")


def test_a_withheld_line_in_a_full_export_or_of_another_shape_is_malformed(scoped: Scoped, tmp_path: Path) -> None:
    withheld = next(line for line in (scoped.bundle / layout.ENTRIES).read_bytes().splitlines(keepends=True)
                    if not line.startswith(layout.HELD_LINE))
    at = json.loads(withheld)["log_index"]
    edited = tmp_path / "edited"
    shutil.copytree(scoped.full, edited)
    lines = (edited / layout.ENTRIES).read_bytes().splitlines(keepends=True)
    lines[at] = withheld
    _rewrite(edited, lines)
    with pytest.raises(MalformedInput) as failed:
        verify_bundle(edited, workers=0)
    assert failed.value.log_index == at
    odd = tmp_path / "odd"
    shutil.copytree(scoped.bundle, odd)
    lines = (odd / layout.ENTRIES).read_bytes().splitlines(keepends=True)
    lines[at] = withheld[:-2] + b',"note":"x"}\n'
    _rewrite(odd, lines)
    with pytest.raises(MalformedInput) as failed:
        verify_bundle(odd, workers=0)
    assert (failed.value.log_index, failed.value.rule) == (at, "withheld.shape")


def test_the_manifest_cannot_claim_a_mandate_the_registry_does_not_grant(scoped: Scoped, tmp_path: Path) -> None:
    claimed = tmp_path / "claimed"
    shutil.copytree(scoped.bundle, claimed)
    manifest = json.loads((claimed / layout.MANIFEST).read_bytes())
    manifest["scope"]["funders"] = sorted([MUNICIPALITY, UWV])
    (claimed / layout.MANIFEST).write_bytes(layout.manifest_bytes(manifest))
    with pytest.raises(VerificationFailed) as failed:
        verify_bundle(claimed, workers=0)
    assert (failed.value.step, failed.value.rule) == (7, "scope.mandate")


@pytest.mark.parametrize(("party", "rule"), [("uwv", "export.not-an-auditor"), ("nobody", "export.not-an-auditor"),
                                             (IDLE, "audit.no-mandate")])
def test_only_an_auditor_with_a_mandate_gets_a_scoped_export(scoped: Scoped, tmp_path: Path, party: str,
                                                             rule: str) -> None:
    with pytest.raises(ExportError) as refused:
        export_bundle(scoped.ledger, tmp_path / "out", for_auditor=party)
    assert (refused.value.rule, refused.value.field) == (rule, "for")
    assert not (tmp_path / "out").exists()


def test_export_for_on_the_command_line(scoped: Scoped, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    settings = scoped.ledger.settings
    monkeypatch.setattr(cli, "open_ledger", lambda: Ledger(settings))
    assert cli.main(["export", str(tmp_path / "mine"), "--for", MANDATED]) == 0
    out = capsys.readouterr().out
    assert f"scoped for {MANDATED} (audits {MUNICIPALITY})" in out
    assert (tmp_path / "mine" / layout.ENTRIES).read_bytes() == (scoped.bundle / layout.ENTRIES).read_bytes()
    assert cli.main(["export", str(tmp_path / "theirs"), "--for", UWV]) != 0
    assert "[for]" in capsys.readouterr().err


def _rewrite(bundle: Path, lines: list[bytes]) -> None:
    """Write entries.jsonl and put its new digest in the manifest (which is not signed)."""
    data = b"".join(lines)
    (bundle / layout.ENTRIES).write_bytes(data)
    manifest = json.loads((bundle / layout.MANIFEST).read_bytes())
    manifest["files"][layout.ENTRIES] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (bundle / layout.MANIFEST).write_bytes(layout.manifest_bytes(manifest))

