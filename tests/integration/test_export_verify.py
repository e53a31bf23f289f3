"""``export`` then ``verify``, on SQLite and PostgreSQL: the bundle is exactly the log, and the
offline verifier passes it - and fails, naming the entry, when the database was edited."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from cli.log_commands import add_commands
from ledger.aggregates import Dossier
from ledger.application import Ledger
from ledger.bundle import layout
from ledger.bundle.export import ExportError, export_bundle
from ledger.domain.canonical import canonical_bytes
from ledger.domain.checkpoint import open_checkpoint
from ledger.domain.entry import leaf_bytes
from ledger.domain.merkle import leaf_hash, root_hash
from ledger.domain.receipt import Receipt, receipt_from_dict
from ledger.domain.receipt_check import verify_receipt
from ledger.domain.signed_receipt import SignedReceipt, sign_receipt
from ledger.domain.tlog_proof import format_tlog_proof
from ledger.infra.storage.tables import log_entries
from ledger.settings import Settings
from ledger.verify import MalformedInput, VerificationFailed, verify_bundle
from tests.support import World, claim, commission, make_world, new_id, payload


def client(n: int) -> str:
    return hashlib.sha256(f"client {n}".encode()).hexdigest()


def populate(world: World, clients: int = 3) -> list[Receipt]:
    """A small history with accepted and refused entries: per client a trajectory, intake,
    activity, a claim and its confirmation, a double claim through another funder (refused,
    naming the conflicting claim) and a provider writing to a trajectory not its own (refused)."""
    receipts = []
    for n in range(clients):
        ref = client(n)
        first, second = new_id(), new_id()
        first_claim = claim(ref, first, kvk=f"{10000000 + n}")
        for submitter, body in (
            ("gemeente-haarlem", commission(ref, "werkfit", first)),
            ("werkfit", payload("IntakeCompleted", ref, "2024-01-15", trajectory_id=first, rung=2, rubric_version="2011")),
            ("werkfit", payload("ActivityRecorded", ref, "2024-02-01", trajectory_id=first, instrument=30)),
            ("werkfit", first_claim),
            ("gemeente-haarlem", payload("PlacementConfirmed", ref, "2024-06-10", claim_id=first_claim["claim_id"])),
            ("uwv", commission(ref, "jobstap", second)),
            ("jobstap", claim(ref, second, kvk=f"{10000000 + n}", job_start="2024-06-15")),
            ("jobstap", payload("ActivityRecorded", ref, "2024-02-01", trajectory_id=first, instrument=18)),
        ):
            receipts.append(world.submit(submitter, body))
    return receipts


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    world = make_world(database_url)
    yield world
    world.ledger.close()


def read_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=False)


def test_the_bundle_is_the_log_and_verifies(world: World, tmp_path: Path) -> None:
    receipts = populate(world)
    assert {r.verdict for r in receipts} == {"accepted", "refused"}
    summary = export_bundle(world.ledger, tmp_path / "bundle")
    bundle = tmp_path / "bundle"
    size = world.ledger.log_size()
    assert summary.tree_size == size

    entries, stored_receipts = read_lines(bundle / layout.ENTRIES), read_lines(bundle / layout.RECEIPTS)
    assert [line for line in entries] == [leaf_bytes(body, i) for i, body in world.ledger.entries(0, size)]
    with world.ledger.engine.connect() as connection:
        appended = [bytes(h) for h in connection.execute(select(log_entries.c.leaf_hash).order_by(log_entries.c.log_index)).scalars()]
    assert [leaf_hash(line) for line in entries] == appended
    # the bundle's receipts are of the submitters' format and say what theirs say, proved against
    # the bundle's newest checkpoint; the checkpoint each submitter's receipt proves inclusion in
    # is one of the bundle's checkpoints
    by_index = {json.loads(line)["log_index"]: json.loads(line) for line in stored_receipts}
    notes = {json.loads(line)["note"] for line in read_lines(bundle / layout.CHECKPOINTS)}
    envelopes = {i: body["envelope"] for i, body in world.ledger.entries(0, size)}
    newest_note = (bundle / layout.CHECKPOINT).read_bytes()
    for receipt in receipts:
        given, exported = receipt.as_dict(), receipt_from_dict(by_index[receipt.log_index])
        assert isinstance(exported, Receipt) and exported.checkpoint == newest_note and exported.tree_size == size
        assert {k: v for k, v in given.items() if k not in ("tree_size", "tlog_proof")} == \
            {k: v for k, v in exported.as_dict().items() if k not in ("tree_size", "tlog_proof")}
        assert verify_receipt(exported, [world.ledger.transparency.verifier_key], envelopes[receipt.log_index]).size \
            == size  # as a submitter checks its own (trajectledger receipt verify)
        assert receipt.checkpoint.decode() in notes
    assert len(stored_receipts) == size

    # anyone can recompute the tree: a few lines of hashlib give the newest checkpoint's root
    def mth(hashes: list[bytes]) -> bytes:
        if len(hashes) == 1:
            return hashes[0]
        k = 1 << ((len(hashes) - 1).bit_length() - 1)
        return hashlib.sha256(b"\x01" + mth(hashes[:k]) + mth(hashes[k:])).digest()

    newest = open_checkpoint((bundle / layout.CHECKPOINT).read_bytes(), [world.ledger.transparency.verifier_key])
    assert newest.size == size
    assert mth([hashlib.sha256(b"\x00" + line).digest() for line in entries]) == newest.root_hash == root_hash(appended)

    manifest = json.loads((bundle / layout.MANIFEST).read_text())
    assert manifest["tree_size"] == size and manifest["counts"]["entries"] == size
    assert manifest["operator_key"] == world.ledger.transparency.verifier_key
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((bundle / name).read_bytes()).hexdigest() == digest["sha256"]
    assert (bundle / layout.OPERATOR_KEYS).read_text() == world.ledger.transparency.verifier_key + "\n"
    assert read_lines(bundle / layout.REGISTRY) == entries[:7]  # genesis + six parties

    verified = verify_bundle(bundle)
    assert verified.tree_size == size and verified.clients == 3
    assert verified.checkpoints == summary.checkpoints >= 1
    assert verified.signatures == 2 * size  # each envelope and each receipt
    assert "trust on first use" in verified.anchor
    trusted = verify_bundle(bundle, trusted_key=world.ledger.transparency.verifier_key)
    assert "genesis" in trusted.anchor


def test_verify_uses_worker_processes_and_reports_the_same_first_failure(world: World, tmp_path: Path) -> None:
    populate(world, clients=2)
    export_bundle(world.ledger, tmp_path / "bundle")
    assert verify_bundle(tmp_path / "bundle", workers=2).tree_size == world.ledger.log_size()
    receipts = read_lines(tmp_path / "bundle" / layout.RECEIPTS)
    forged = receipt_from_dict(json.loads(receipts[9]))
    assert isinstance(forged, Receipt)
    body, _, signature_line = forged.checkpoint.partition(b"\n\n")  # only the checkpoint's signature can notice:
    name, blob = signature_line.decode().split(" ")[1:]  # another key's signature under the operator's key hash
    fake = base64.b64decode(blob)[:4] + Ed25519PrivateKey.generate().sign(body + b"\n")
    note = body + b"\n\n" + f"\u2014 {name} {base64.b64encode(fake).decode()}\n".encode()
    receipts[9] = canonical_bytes({**forged.as_dict(), "tlog_proof": format_tlog_proof(
        forged.log_index, forged.proof(), note, forged.extra()).decode()})
    (tmp_path / "bundle" / layout.RECEIPTS).write_bytes(b"".join(line + b"\n" for line in receipts))
    for workers in (0, 2):
        with pytest.raises(VerificationFailed) as caught:
            verify_bundle(tmp_path / "bundle", workers=workers)
        assert (caught.value.log_index, caught.value.step, caught.value.rule) == (9, 2, "signature.invalid")


def test_an_upcaster_on_recorded_events_is_applied_and_an_entry_it_changes_fails_verification(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorded entries are the log's leaves: their bytes may never change. Should an event
    class version ever upcast them, the ledger reads them through the upcaster (not the fast
    decode) and the changed bytes fail verification on the first such entry. Schemas evolve
    by new payload types, never by rewriting what was recorded."""
    populate(world, clients=1)

    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["entry"]["envelope"]["payload"]["note"] = "added later"

    monkeypatch.setattr(Dossier.Recorded, "class_version", 2, raising=False)
    monkeypatch.setattr(Dossier.Recorded, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False)
    entries = world.ledger.entries(0, 10_000)
    upcast = [i for i, body in entries if body["envelope"]["payload"].get("note") == "added later"]
    assert upcast and all(body["envelope"]["payload"]["type"] != "PartyRegistered" for i, body in entries if i in upcast)
    export_bundle(world.ledger, tmp_path / "bundle")
    with pytest.raises(VerificationFailed) as caught:
        verify_bundle(tmp_path / "bundle")
    assert (caught.value.log_index, caught.value.rule) == (upcast[0], "leaf.hash")


@pytest.mark.parametrize("field", ["verdict", "recorded_at", "payload"])
def test_an_event_edited_in_the_database_fails_on_exactly_that_entry(world: World, tmp_path: Path, field: str) -> None:
    receipts = populate(world, clients=2)
    target = next(r for r in receipts if r.accepted and r.log_index > 10)
    events = world.ledger.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    with world.ledger.engine.begin() as connection:
        row = connection.execute(select(log_entries).where(log_entries.c.log_index == target.log_index)).one()
        where = (events.c.originator_id == row.originator_id) & (events.c.originator_version == row.originator_version)
        state = json.loads(bytes(connection.execute(select(events.c.state).where(where)).scalar_one()))
        entry = state["entry"]
        if field == "verdict":
            entry["verdict"], entry["refusal"] = "refused", {"rule": "claim.unique-job", "field": "payload.employer_kvk",
                                                             "detail": "edited", "conflicting_claim": None}
        elif field == "recorded_at":
            entry["recorded_at"] = "2024-12-31T23:00:00.000000Z"
        else:
            entry["envelope"]["payload"]["occurred_on"] = "2024-01-02"
        # UPDATE trajectledger_events SET state = ... WHERE originator_id = ... AND originator_version = ...
        assert connection.execute(events.update().where(where).values(state=json.dumps(state).encode())).rowcount == 1
    export_bundle(world.ledger, tmp_path / "bundle")
    with pytest.raises(VerificationFailed) as caught:
        verify_bundle(tmp_path / "bundle")
    failure = caught.value
    assert (failure.log_index, failure.step, failure.rule) == (target.log_index, 2, "leaf.hash"), str(failure)


def test_the_log_extends_an_auditors_earlier_checkpoint(world: World, tmp_path: Path) -> None:
    populate(world, clients=1)
    kept = world.ledger.checkpoint()
    populate(world, clients=2)
    export_bundle(world.ledger, tmp_path / "bundle")
    verified = verify_bundle(tmp_path / "bundle", against=kept.note)
    assert verified.against == kept.tree_size < verified.tree_size
    # a checkpoint of the same size is the trivial case: the roots must be equal
    same_size = world.ledger.transparency.stored(verified.tree_size)
    assert same_size is not None
    assert verify_bundle(tmp_path / "bundle", against=same_size.note).against


def world_with_key(url: str, operator_key: Ed25519PrivateKey) -> World:
    """A ledger like ``make_world``'s, run with a given operator key."""
    world = World(Ledger(Settings(url, operator_key, os.urandom(32))))
    for party, role in (("gemeente-haarlem", "funder"), ("uwv", "funder"), ("werkfit", "provider"),
                        ("jobstap", "provider"), ("baanbrug", "provider"), ("rekenkamer-haarlem", "auditor")):
        world.register(party, role)
    return world


@pytest.mark.parametrize("clients", [1, 3])
def test_a_rewritten_or_truncated_history_fails_against_the_kept_checkpoint(tmp_path: Path, clients: int) -> None:
    """The operator forks: a second log with the same key and origin but another history,
    shorter (truncated) or longer (rewritten). An auditor's kept checkpoint shows it."""
    first = make_world(f"sqlite:///{tmp_path}/first.sqlite3")
    populate(first, clients=2)
    kept = first.ledger.checkpoint()
    first.ledger.close()
    fork = world_with_key(f"sqlite:///{tmp_path}/fork.sqlite3", first.operator_key)
    populate(fork, clients=clients)
    export_bundle(fork.ledger, tmp_path / "fork")
    fork.ledger.close()
    assert verify_bundle(tmp_path / "fork").tree_size != kept.tree_size  # on its own the fork verifies
    with pytest.raises(VerificationFailed) as caught:
        verify_bundle(tmp_path / "fork", against=kept.note)
    assert caught.value.step == 8
    assert caught.value.rule == ("against.beyond" if clients < 2 else "against.root"), str(caught.value)


def test_a_checkpoint_of_another_operator_fails_against(world: World, tmp_path: Path) -> None:
    populate(world, clients=1)
    export_bundle(world.ledger, tmp_path / "bundle")
    stranger = make_world(f"sqlite:///{tmp_path}/stranger.sqlite3")
    note = stranger.ledger.checkpoint().note
    stranger.ledger.close()
    with pytest.raises(VerificationFailed) as caught:
        verify_bundle(tmp_path / "bundle", against=note)
    assert (caught.value.step, caught.value.rule) == (8, "checkpoint.signature")


def test_malformed_bundles_and_inputs_are_not_verification_failures(world: World, tmp_path: Path) -> None:
    populate(world, clients=1)
    export_bundle(world.ledger, tmp_path / "bundle")
    with pytest.raises(MalformedInput) as caught:
        verify_bundle(tmp_path / "nothing")
    assert caught.value.exit_code == 2 and caught.value.rule == "manifest.missing"
    with pytest.raises(MalformedInput):
        verify_bundle(tmp_path / "bundle", trusted_key="not a key")
    with pytest.raises(MalformedInput):
        verify_bundle(tmp_path / "bundle", against=b"not a note")
    with pytest.raises(ExportError):
        export_bundle(world.ledger, tmp_path / "bundle")  # not empty


def run_cli(argv: list[str], world: World | None = None) -> int:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command", required=True),
                 lambda: Ledger(world.ledger.settings) if world else pytest.fail("verify opened the ledger"))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_the_commands_and_their_exit_codes(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    populate(world, clients=1)
    assert run_cli(["checkpoint"], world) == 0
    note = capsys.readouterr().out
    assert open_checkpoint(note.encode(), [world.ledger.transparency.verifier_key]).size == world.ledger.log_size()
    assert run_cli(["checkpoint", "--verifier-key"], world) == 0
    key = capsys.readouterr().out.strip()
    assert key == world.ledger.transparency.verifier_key
    assert run_cli(["export", str(tmp_path / "bundle")], world) == 0
    assert f"operator key: {key}" in capsys.readouterr().out
    (tmp_path / "key").write_text(key + "\n")
    (tmp_path / "old").write_text(note)
    assert run_cli(["verify", str(tmp_path / "bundle"), "--trusted-operator-key", str(tmp_path / "key"),
                    "--against", str(tmp_path / "old")]) == 0
    out = capsys.readouterr().out
    assert "(8) the log extends the auditor's earlier checkpoint (--against): ok" in out
    assert "trusted by: the genesis entry registers the trusted operator key" in out
    assert run_cli(["verify", str(tmp_path / "missing")]) == 2
    assert run_cli(["verify", str(tmp_path / "bundle"), "--trusted-operator-key", str(tmp_path / "absent")]) == 2
    entries = (tmp_path / "bundle" / layout.ENTRIES).read_bytes()
    (tmp_path / "bundle" / layout.ENTRIES).write_bytes(entries.replace(b'"rung":2', b'"rung":3', 1))
    assert run_cli(["verify", str(tmp_path / "bundle")]) == 3
    assert "FAILED: entry 8: step (2)" in capsys.readouterr().out


def rewrite(bundle: Path, name: str, data: bytes) -> None:
    """Replace one file of the bundle and its digest in the manifest (as an exporter would)."""
    (bundle / name).write_bytes(data)
    manifest = json.loads((bundle / layout.MANIFEST).read_text())
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (bundle / layout.MANIFEST).write_bytes(layout.manifest_bytes(manifest))


def test_a_bundle_with_format_1_receipts_still_verifies(world: World, tmp_path: Path) -> None:
    """Bundles exported before carry one operator signature per receipt: still read and checked."""
    populate(world, clients=1)
    bundle = tmp_path / "bundle"
    export_bundle(world.ledger, bundle)
    key, key_id = world.ledger.settings.operator_key, world.ledger.operator_key_id
    old = []
    for line in read_lines(bundle / layout.RECEIPTS):
        fields = {k: v for k, v in json.loads(line).items() if k not in ("receipt_version", "tree_size", "tlog_proof")}
        old.append(canonical_bytes(sign_receipt(SignedReceipt(**fields), key, key_id).as_dict()) + b"\n")
    rewrite(bundle, layout.RECEIPTS, b"".join(old))
    assert verify_bundle(bundle, workers=0).tree_size == world.ledger.log_size()
    forged = json.loads(old[4])
    forged["signature"] = base64.b64encode(Ed25519PrivateKey.generate().sign(b"another")).decode()
    old[4] = canonical_bytes(forged) + b"\n"
    rewrite(bundle, layout.RECEIPTS, b"".join(old))
    with pytest.raises(VerificationFailed) as caught:
        verify_bundle(bundle, workers=0)
    assert (caught.value.log_index, caught.value.step, caught.value.rule) == (4, 2, "signature.invalid")


def proof_receipt_edited(receipt: Receipt, edit: str, other_note: bytes) -> dict[str, Any]:
    data = receipt.as_dict()
    if edit == "proof":  # one hash of the inclusion proof flipped
        hashes = list(receipt.proof())
        hashes[0] = bytes([hashes[0][0] ^ 1]) + hashes[0][1:]
        data["tlog_proof"] = format_tlog_proof(receipt.log_index, hashes, receipt.checkpoint, receipt.extra()).decode()
    elif edit == "checkpoint":  # proved against another (older, genuinely signed) checkpoint of the log
        data["tlog_proof"] = format_tlog_proof(receipt.log_index, receipt.proof(), other_note, receipt.extra()).decode()
    elif edit == "verdict":  # the receipt and its proof's extra data agree, but not with the entry
        verdict = "refused" if receipt.verdict == "accepted" else "accepted"
        changed = Receipt(receipt.envelope_id, verdict, receipt.refusal, receipt.recorded_at, receipt.log_index,
                          receipt.leaf_hash, receipt.tree_size, receipt.checkpoint, receipt.proof())
        data = changed.as_dict()
    return data


@pytest.mark.parametrize(("edit", "rule"), [("proof", "receipt.inclusion"), ("checkpoint", "receipt.checkpoint"),
                                            ("verdict", "receipt.differs")])
def test_an_edited_proof_receipt_fails_on_its_entry(world: World, tmp_path: Path, edit: str, rule: str) -> None:
    populate(world, clients=1)
    bundle = tmp_path / "bundle"
    export_bundle(world.ledger, bundle)
    lines = read_lines(bundle / layout.RECEIPTS)
    first_note = json.loads(read_lines(bundle / layout.CHECKPOINTS)[0])["note"].encode()
    receipt = receipt_from_dict(json.loads(lines[5]))
    assert isinstance(receipt, Receipt)
    lines[5] = canonical_bytes(proof_receipt_edited(receipt, edit, first_note))
    rewrite(bundle, layout.RECEIPTS, b"".join(line + b"\n" for line in lines))
    with pytest.raises(VerificationFailed) as caught:
        verify_bundle(bundle, workers=0)
    assert (caught.value.log_index, caught.value.step, caught.value.rule) == (5, 2, rule)


def test_receipts_proving_against_a_later_checkpoint_than_the_bundles_fail(world: World, tmp_path: Path) -> None:
    """Every receipt of a bundle proves inclusion in the bundle's own newest checkpoint: receipts
    taken from a later export (valid proofs, genuine signatures) do not pass for this bundle's."""
    populate(world, clients=1)
    earlier = tmp_path / "earlier"
    export_bundle(world.ledger, earlier)
    populate(world, clients=1)
    later = tmp_path / "later"
    export_bundle(world.ledger, later)
    count = len(read_lines(earlier / layout.RECEIPTS))
    assert len(read_lines(later / layout.RECEIPTS)) > count
    assert verify_bundle(earlier, workers=0).tree_size == count
    swapped = read_lines(later / layout.RECEIPTS)[:count]
    rewrite(earlier, layout.RECEIPTS, b"".join(line + b"\n" for line in swapped))
    with pytest.raises(VerificationFailed) as caught:
        verify_bundle(earlier, workers=0)
    assert (caught.value.step, caught.value.rule) == (2, "receipt.checkpoint")


def test_a_receipt_whose_checkpoint_signature_line_was_edited_fails_on_its_entry(world: World, tmp_path: Path) -> None:
    """The receipt's checkpoint must be the bundle's newest note byte for byte: an edited key name
    on its signature line (which the signature itself does not cover) is found on that entry."""
    populate(world, clients=1)
    bundle = tmp_path / "bundle"
    export_bundle(world.ledger, bundle)
    lines = read_lines(bundle / layout.RECEIPTS)
    name = world.ledger.transparency.key_name.encode()
    assert b"\xe2\x80\x94 " + name + b" " in lines[3]
    lines[3] = lines[3].replace(b"\xe2\x80\x94 " + name + b" ", b"\xe2\x80\x94 " + name + b"x ")
    rewrite(bundle, layout.RECEIPTS, b"".join(line + b"\n" for line in lines))
    with pytest.raises(VerificationFailed) as caught:
        verify_bundle(bundle, workers=0)
    assert (caught.value.log_index, caught.value.step, caught.value.rule) == (3, 2, "receipt.checkpoint")


def test_the_manifest_says_format_2_and_bundles_saying_format_1_still_verify(world: World, tmp_path: Path) -> None:
    populate(world)
    bundle = tmp_path / "bundle"
    export_bundle(world.ledger, bundle)
    manifest = json.loads((bundle / layout.MANIFEST).read_bytes())
    assert manifest["format"] == layout.FORMAT == "trajectledger-export/2"
    assert all(json.loads(line)["receipt_version"] == 2 for line in read_lines(bundle / layout.RECEIPTS))
    verified = verify_bundle(bundle)
    for label, expected in (("trajectledger-export/1", None), ("trajectledger-export/3", "manifest.format")):
        (bundle / layout.MANIFEST).write_bytes(layout.manifest_bytes({**manifest, "format": label}))
        if expected is None:  # as the first exporters of tlog-proof receipts wrote it
            assert verify_bundle(bundle).tree_size == verified.tree_size
        else:
            with pytest.raises(MalformedInput) as refused:
                verify_bundle(bundle)
            assert refused.value.rule == expected and "trajectledger-export/2" in str(refused.value)
