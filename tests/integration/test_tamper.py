"""Tampering with an exported bundle: every change fails verification, naming the first
entry it touches (or the checkpoint, file or key it concerns).

Mutations are applied twice: as they come (the manifest's digests then disagree too) and
with the manifest re-sealed (new digests and counts), as a forger would - so the checks
that name the entry are the ones that must catch them.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.bundle import layout
from ledger.bundle.export import export_bundle
from ledger.domain.canonical import canonical_bytes
from ledger.domain.checkpoint import Checkpoint, sign_checkpoint
from ledger.domain.entry import REFUSED, entry_body, leaf_bytes
from ledger.domain.envelope import key_id_for, public_key_bytes, sign
from ledger.domain.merkle import leaf_hash, root_hash
from ledger.domain.signed_receipt import SignedReceipt, sign_receipt
from ledger.verify import MalformedInput, VerificationFailed, VerifyError, verify_bundle
from tests.integration.test_export_verify import client, populate, world_with_key
from tests.support import claim, commission, make_world, registry

BOUNDED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ENTRY_FILES = (layout.ENTRIES, layout.RECEIPTS)
LATER = "2030-01-01T10:00:00.000000Z"  # recorded_at of a forged entry: after every real one


@dataclass(frozen=True)
class Bundle:
    files: dict[str, bytes]
    operator_key: Ed25519PrivateKey
    key_name: str

    @property
    def size(self) -> int:
        return self.files[layout.ENTRIES].count(b"\n")

    def lines(self, name: str) -> list[bytes]:
        return self.files[name].splitlines(keepends=True)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """31 entries with checkpoints at 8, 16, 24 and 31 (SQLite; the engine does not matter here)."""
    tmp = tmp_path_factory.mktemp("tamper")
    world = make_world(f"sqlite:///{tmp}/ledger.sqlite3")
    populate(world, clients=3)
    export_bundle(world.ledger, tmp / "bundle")
    world.ledger.close()
    files = {name: (tmp / "bundle" / name).read_bytes() for name in (*layout.FILES, layout.MANIFEST)}
    # every write stored its checkpoint; a bundle may carry fewer: keep those at 8, 16, 24 and 31
    kept = [line for line in files[layout.CHECKPOINTS].splitlines(keepends=True)
            if json.loads(line)["tree_size"] in (8, 16, 24, 31)]
    files = reseal({**files, layout.CHECKPOINTS: b"".join(kept)})
    assert files[layout.CHECKPOINTS].count(b"\n") == 4
    return Bundle(files, world.operator_key, world.ledger.transparency.key_name)


@pytest.fixture(scope="module")
def fork(tmp_path_factory: pytest.TempPathFactory, bundle: Bundle) -> Bundle:
    """Another history under the same operator key and origin (a split view)."""
    tmp = tmp_path_factory.mktemp("fork")
    world = world_with_key(f"sqlite:///{tmp}/ledger.sqlite3", bundle.operator_key)
    populate(world, clients=4)
    export_bundle(world.ledger, tmp / "bundle")
    world.ledger.close()
    return Bundle({name: (tmp / "bundle" / name).read_bytes() for name in (*layout.FILES, layout.MANIFEST)},
                  bundle.operator_key, bundle.key_name)


def reseal(files: dict[str, bytes]) -> dict[str, bytes]:
    """What a forger does after changing files: new digests and counts in the manifest."""
    manifest = json.loads(files[layout.MANIFEST])
    manifest["files"] = {name: {"sha256": hashlib.sha256(files[name]).hexdigest(), "bytes": len(files[name])}
                         for name in layout.FILES}
    manifest["counts"] = {count: files[name].count(b"\n") for count, name in layout.COUNTS.items()}
    manifest["tree_size"] = files[layout.ENTRIES].count(b"\n")
    return {**files, layout.MANIFEST: layout.manifest_bytes(manifest)}


def failure(files: dict[str, bytes], **options: object) -> VerifyError:
    with tempfile.TemporaryDirectory() as directory:
        for name, data in files.items():
            (Path(directory) / name).write_bytes(data)
        with pytest.raises(VerifyError) as caught:
            verify_bundle(directory, workers=0, **options)  # type: ignore[arg-type]
    return caught.value


def first_difference(old: list[bytes], new: list[bytes]) -> int:
    for index, (a, b) in enumerate(zip(old, new)):
        if a != b:
            return index
    return min(len(old), len(new))


def test_the_untouched_bundle_verifies(bundle: Bundle) -> None:
    with tempfile.TemporaryDirectory() as directory:
        for name, data in bundle.files.items():
            (Path(directory) / name).write_bytes(data)
        assert verify_bundle(directory, workers=0).tree_size == bundle.size == 31


@given(data=st.data(), name=st.sampled_from(ENTRY_FILES + (layout.REGISTRY,)), resealed=st.booleans())
@BOUNDED
def test_any_byte_flip_in_an_entry_fails_on_that_entry(bundle: Bundle, data: st.DataObject, name: str,
                                                       resealed: bool) -> None:
    content = bundle.files[name]
    position = data.draw(st.integers(0, len(content) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="xor")
    changed = bytearray(content)
    changed[position] ^= mask
    files = {**bundle.files, name: bytes(changed)}
    found = failure(reseal(files) if resealed else files)
    line = content[:position].count(b"\n")  # registry.jsonl line n is entry n: they come first
    assert found.log_index == line, str(found)


@given(data=st.data(), name=st.sampled_from((layout.CHECKPOINTS, layout.CHECKPOINT, layout.OPERATOR_KEYS,
                                             layout.MANIFEST)), resealed=st.booleans())
@BOUNDED
def test_any_byte_flip_elsewhere_fails(bundle: Bundle, data: st.DataObject, name: str, resealed: bool) -> None:
    content = bundle.files[name]
    position = data.draw(st.integers(0, len(content) - 1), label="position")
    changed = bytearray(content)
    changed[position] ^= data.draw(st.integers(1, 255), label="xor")
    files = {**bundle.files, name: bytes(changed)}
    found = failure(reseal(files) if resealed and name != layout.MANIFEST else files)
    if name == layout.CHECKPOINTS:
        assert found.where is not None and "checkpoint" in found.where, str(found)
    elif name == layout.MANIFEST:
        assert found.step in (1, 2, 5, 7), str(found)
    else:
        assert found.where == name, str(found)


@st.composite
def line_edits(draw: st.DrawFn, count: int) -> tuple[str, int, int]:
    kind = draw(st.sampled_from(["delete", "insert", "swap", "truncate"]))
    first = draw(st.integers(0, count - 1))
    second = draw(st.integers(0, count - 1))
    return kind, first, second


def edit(lines: list[bytes], kind: str, first: int, second: int) -> list[bytes]:
    lines = list(lines)
    if kind == "delete":
        del lines[first]
    elif kind == "insert":
        lines.insert(first, lines[second])
    elif kind == "swap":
        lines[first], lines[second] = lines[second], lines[first]
    else:
        lines = lines[:first]
    return lines


@given(data=st.data(), both=st.booleans(), resealed=st.booleans())
@BOUNDED
def test_deleted_inserted_reordered_or_truncated_entries_fail_on_the_first_one_touched(
        bundle: Bundle, data: st.DataObject, both: bool, resealed: bool) -> None:
    kind, first, second = data.draw(line_edits(bundle.size), label="edit")
    original = bundle.lines(layout.ENTRIES)
    changed = edit(original, kind, first, second)
    if changed == original:
        return  # swapping a line with itself, inserting a copy of a line before itself
    files = {**bundle.files, layout.ENTRIES: b"".join(changed)}
    if both:  # the same edit on the receipts: each entry keeps its own receipt
        files[layout.RECEIPTS] = b"".join(edit(bundle.lines(layout.RECEIPTS), kind, first, second))
    found = failure(reseal(files) if resealed else files)
    assert found.log_index == first_difference(original, changed), str(found)


@given(which=st.integers(0, 3), resealed=st.booleans())
@BOUNDED
def test_a_checkpoint_from_another_tree_fails(bundle: Bundle, fork: Bundle, which: int, resealed: bool) -> None:
    """Same operator key, same origin, same tree size, another history: the root differs."""
    ours = bundle.lines(layout.CHECKPOINTS)
    theirs = {json.loads(line)["tree_size"]: line for line in fork.lines(layout.CHECKPOINTS)}
    size = json.loads(ours[which])["tree_size"]
    if size not in theirs:  # sign one for the fork at this size, as its operator would
        fork_leaves = [leaf_hash(line.rstrip(b"\n")) for line in fork.lines(layout.ENTRIES)[:size]]
        note = sign_checkpoint(Checkpoint(bundle.key_name, size, root_hash(fork_leaves)), bundle.key_name,
                               bundle.operator_key)
        theirs[size] = canonical_bytes({"note": note.decode(), "tree_size": size}) + b"\n"
    ours[which] = theirs[size]
    files = {**bundle.files, layout.CHECKPOINTS: b"".join(ours)}
    if which == 3:
        files[layout.CHECKPOINT] = json.loads(theirs[size])["note"].encode()
    found = failure(reseal(files) if resealed else files)
    assert (found.step, found.rule, found.log_index) == (5, "checkpoint.root", size - 1), str(found)
    assert found.where == f"checkpoint at tree size {size}"


def test_a_checkpoint_by_another_key_fails(bundle: Bundle) -> None:
    lines = bundle.lines(layout.CHECKPOINTS)
    body = json.loads(lines[1])
    stranger = Ed25519PrivateKey.generate()
    leaves = [leaf_hash(line.rstrip(b"\n")) for line in bundle.lines(layout.ENTRIES)[:body["tree_size"]]]
    note = sign_checkpoint(Checkpoint(bundle.key_name, body["tree_size"], root_hash(leaves)), bundle.key_name, stranger)
    lines[1] = canonical_bytes({"note": note.decode(), "tree_size": body["tree_size"]}) + b"\n"
    found = failure(reseal({**bundle.files, layout.CHECKPOINTS: b"".join(lines)}))
    assert (found.step, found.rule, found.log_index) == (5, "checkpoint.signature", body["tree_size"] - 1)


def as_format_1(receipts: bytes, operator_key: Ed25519PrivateKey) -> bytes:
    """The receipts re-signed one by one (format 1): the exported format-2 receipts prove inclusion
    in the bundle's newest checkpoint, which the forged append replaces, so the forger (holding the
    operator key) re-signs them the older way, which still verifies."""
    lines = []
    for line in receipts.splitlines():
        fields = {k: v for k, v in json.loads(line).items() if k not in ("receipt_version", "tree_size", "tlog_proof")}
        lines.append(canonical_bytes(sign_receipt(SignedReceipt(**fields), operator_key).as_dict()) + b"\n")
    return b"".join(lines)


def forge_append(files: dict[str, bytes], body: dict[str, Any], operator_key: Ed25519PrivateKey,
                 key_name: str, origin: str) -> dict[str, bytes]:
    """Append an entry as a dishonest operator could: its receipt and a checkpoint over it,
    signed with the operator key, and the manifest resealed."""
    index = files[layout.ENTRIES].count(b"\n")
    line = leaf_bytes(body, index)
    envelope = body["envelope"]
    receipt = sign_receipt(SignedReceipt(envelope_id=envelope["payload"]["envelope_id"], verdict=body["verdict"],
                                         refusal=body["refusal"], recorded_at=body["recorded_at"], log_index=index,
                                         leaf_hash=leaf_hash(line).hex()), operator_key)
    entries = files[layout.ENTRIES] + line + b"\n"
    leaves = [leaf_hash(entry) for entry in entries.splitlines()]
    note = sign_checkpoint(Checkpoint(origin, index + 1, root_hash(leaves), ("time 2026-01-01T00:00:00.000000Z",)),
                           key_name, operator_key)
    return reseal({
        **files,
        layout.ENTRIES: entries,
        layout.RECEIPTS: as_format_1(files[layout.RECEIPTS], operator_key) + canonical_bytes(receipt.as_dict()) + b"\n",
        layout.CHECKPOINTS: files[layout.CHECKPOINTS] + canonical_bytes(
            {"note": note.decode(), "tree_size": index + 1}) + b"\n",
        layout.CHECKPOINT: note,
    })


def test_a_signature_by_a_key_after_its_revocation_fails_and_earlier_entries_pass(tmp_path: Path) -> None:
    world = make_world(f"sqlite:///{tmp_path}/ledger.sqlite3")
    ref = client(0)
    commissioned = commission(ref, "werkfit")
    assert world.submit("gemeente-haarlem", commissioned).accepted
    revoked = world.keys["werkfit"]
    early = world.submit("werkfit", claim(ref, commissioned["trajectory_id"]))
    assert early.accepted  # signed while the key was live
    world.submit("operator", registry("KeyRevoked", party_id="werkfit", key_id=key_id_for(public_key_bytes(revoked))))
    export_bundle(world.ledger, tmp_path / "bundle")
    origin, key_name = world.ledger.settings.log_origin, world.ledger.transparency.key_name
    world.ledger.close()
    files = {name: (tmp_path / "bundle" / name).read_bytes() for name in (*layout.FILES, layout.MANIFEST)}
    size = files[layout.ENTRIES].count(b"\n")
    assert verify_bundle(tmp_path / "bundle", workers=0).tree_size == size

    # the ledger refuses such a submission outright, so forge it: an entry signed with the revoked key
    late = sign(claim(ref, commissioned["trajectory_id"], kvk="87654321", job_start="2024-07-01"), "werkfit", revoked)
    body = entry_body(late.as_dict(), REFUSED, {"rule": "claim.unique-job", "field": "payload.employer_kvk",
                                                "detail": "forged", "conflicting_claim": None},
                      LATER)
    forged = forge_append(files, body, world.operator_key, key_name, origin)
    found = failure(forged)
    # the first failure is the forged entry itself: every earlier one - the claim signed with
    # the same key before its revocation included - passed every step
    assert isinstance(found, VerificationFailed)
    assert (found.log_index, found.step, found.rule) == (size, 3, "key.revoked"), str(found)
    assert early.log_index < size


def test_an_entry_the_rules_refuse_but_recorded_as_accepted_is_reported(tmp_path: Path) -> None:
    world = make_world(f"sqlite:///{tmp_path}/ledger.sqlite3")
    ref = client(0)
    commissioned = commission(ref, "werkfit")
    assert world.submit("gemeente-haarlem", commissioned).accepted
    first = claim(ref, commissioned["trajectory_id"])
    assert world.submit("werkfit", first).accepted
    export_bundle(world.ledger, tmp_path / "bundle")
    origin, key_name = world.ledger.settings.log_origin, world.ledger.transparency.key_name
    files = {name: (tmp_path / "bundle" / name).read_bytes() for name in (*layout.FILES, layout.MANIFEST)}
    size = files[layout.ENTRIES].count(b"\n")
    double = world.signed("werkfit", claim(ref, commissioned["trajectory_id"], job_start="2024-06-10"))
    world.ledger.close()
    accepted = entry_body(double, "accepted", None, LATER)
    found = failure(forge_append(files, accepted, world.operator_key, key_name, origin))
    assert (found.log_index, found.step, found.rule) == (size, 4, "verdict.differs"), str(found)
    wrong_rule = entry_body(double, REFUSED, {"rule": "dates.not-future", "field": "payload.occurred_on",
                                              "detail": "forged", "conflicting_claim": None},
                            LATER)
    found = failure(forge_append(files, wrong_rule, world.operator_key, key_name, origin))
    assert (found.log_index, found.step, found.rule) == (size, 4, "refusal.differs"), str(found)
    right = entry_body(double, REFUSED, {"rule": "claim.unique-job", "field": "payload.employer_kvk",
                                         "detail": "any wording", "conflicting_claim": first["claim_id"]},
                       LATER)
    with tempfile.TemporaryDirectory() as directory:
        for name, data in forge_append(files, right, world.operator_key, key_name, origin).items():
            (Path(directory) / name).write_bytes(data)
        assert verify_bundle(directory, workers=0).tree_size == size + 1
    backdated = {**right, "recorded_at": "2025-01-01T10:00:00.000000Z"}  # before the entries it follows
    found = failure(forge_append(files, backdated, world.operator_key, key_name, origin))
    assert (found.log_index, found.step, found.rule) == (size, 2, "entry.recorded-at"), str(found)


def test_a_malformed_line_is_not_a_verification_failure(bundle: Bundle) -> None:
    lines = bundle.lines(layout.ENTRIES)
    lines[12] = b'{"not": "canonical"}\n'
    found = failure({**bundle.files, layout.ENTRIES: b"".join(lines)})
    assert isinstance(found, MalformedInput) and found.exit_code == 2 and found.log_index == 12


def test_a_payload_of_no_known_shape_is_reported_on_its_entry(tmp_path: Path) -> None:
    """A signed envelope whose payload the ledger could never have accepted (its type is a
    list), appended by a dishonest operator: step (3) names it, nothing crashes."""
    world = make_world(f"sqlite:///{tmp_path}/ledger.sqlite3")
    ref = client(0)
    assert world.submit("gemeente-haarlem", commission(ref, "werkfit")).accepted
    export_bundle(world.ledger, tmp_path / "bundle")
    origin, key_name = world.ledger.settings.log_origin, world.ledger.transparency.key_name
    files = {name: (tmp_path / "bundle" / name).read_bytes() for name in (*layout.FILES, layout.MANIFEST)}
    size = files[layout.ENTRIES].count(b"\n")
    odd = world.signed("werkfit", {**commission(ref, "werkfit"), "type": ["PartyRegistered"]})
    world.ledger.close()
    body = entry_body(odd, REFUSED, {"rule": "field.required", "field": "payload.type", "detail": "forged",
                                     "conflicting_claim": None}, LATER)
    found = failure(forge_append(files, body, world.operator_key, key_name, origin))
    assert isinstance(found, VerificationFailed)
    assert (found.log_index, found.step, found.rule) == (size, 3, "field.required"), str(found)
