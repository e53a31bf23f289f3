"""The log service on SQLite and PostgreSQL: checkpoints (automatic, on demand, concurrent),
inclusion and consistency proofs from ``log_entries``, operator key rotation."""

from __future__ import annotations

import hashlib
import os
import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, create_engine, func, insert, select

from ledger.application import Ledger
from ledger.bundle.export import export_bundle
from ledger.domain.checkpoint import CheckpointSignatureError, open_checkpoint, verifier_key_string
from ledger.domain.entry import leaf_bytes
from ledger.domain.envelope import b64encode, key_id_for, public_key_bytes
from ledger.domain.errors import OperatorKeyNotLive
from ledger.domain.merkle import (
    TreeInputError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from ledger.domain.receipt import Receipt
from ledger.infra.storage.migrate import upgrade
from ledger.infra.storage.tables import checkpoints, log_entries
from ledger.infra.transparency.service import BeyondLog, TransparencyLog
from ledger.settings import Settings, SettingsError
from ledger.verify import VerificationFailed, verify_bundle
from tests.integration.test_export_verify import populate
from tests.support import World, commission, make_world, registry


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    world = make_world(database_url)
    yield world
    world.ledger.close()


def leaf_hashes(ledger: Ledger) -> list[bytes]:
    """Recomputed from the event store (not read from log_entries)."""
    return [leaf_hash(leaf_bytes(body, i)) for i, body in ledger.entries(0, 100_000)]


def stored_sizes(ledger: Ledger) -> list[int]:
    with ledger.engine.connect() as connection:
        return list(connection.execute(select(checkpoints.c.tree_size).order_by(checkpoints.c.tree_size)).scalars())


def test_an_on_demand_checkpoint_signs_the_root_of_the_whole_log(world: World) -> None:
    populate(world, clients=1)
    signed = world.ledger.checkpoint()
    hashes = leaf_hashes(world.ledger)
    assert signed.tree_size == len(hashes) == world.ledger.log_size()
    opened = open_checkpoint(signed.note, [world.ledger.transparency.verifier_key])
    assert (opened.origin, opened.size, opened.root_hash) == (world.ledger.settings.log_origin, len(hashes),
                                                              root_hash(hashes))
    assert signed.root_hash == opened.root_hash and opened.extensions[0].startswith("time ")
    assert world.ledger.checkpoint() == signed  # the same size again: the stored note
    with pytest.raises(CheckpointSignatureError):  # fail closed: another key does not open it
        open_checkpoint(signed.note, [verifier_key_string(world.ledger.settings.log_origin,
                                                          public_key_bytes(Ed25519PrivateKey.generate()))])
    older = world.ledger.transparency.checkpoint(5)  # an older size is hashed afresh
    assert older.root_hash == root_hash(hashes[:5])
    with pytest.raises(BeyondLog):
        world.ledger.transparency.checkpoint(len(hashes) + 1)


def test_the_operator_key_is_published_as_a_verifier_key_string(world: World) -> None:
    key = world.ledger.transparency.verifier_key
    name, key_hash, _ = key.split("+", 2)
    assert name == world.ledger.settings.log_origin and len(key_hash) == 8
    assert key == verifier_key_string(name, public_key_bytes(world.operator_key))


def test_every_write_stores_the_signed_checkpoint_of_its_tree_size(world: World) -> None:
    before = world.ledger.log_size()
    assert stored_sizes(world.ledger) == list(range(1, before + 1))  # the world's writes, one entry each
    populate(world, clients=3)  # 24 more entries, one at a time
    envelopes = [world.signed("operator", registry("PartyRegistered", party_id=f"nieuw-{n}", role="provider",
                                                   public_key=b64encode(public_key_bytes(Ed25519PrivateKey.generate()))))
                 for n in range(5)]
    results = world.ledger.submit_batch(envelopes)
    assert all(isinstance(r, Receipt) and r.tree_size == before + 29 for r in results)  # one batch: one checkpoint
    assert stored_sizes(world.ledger) == list(range(1, before + 25)) + [before + 29]
    hashes = leaf_hashes(world.ledger)
    for size in stored_sizes(world.ledger):
        stored = world.ledger.transparency.stored(size)
        assert stored is not None
        opened = open_checkpoint(stored.note, [world.ledger.transparency.verifier_key])
        assert (opened.size, opened.root_hash) == (size, root_hash(hashes[:size]))


def test_concurrent_signers_of_one_size_agree(world: World) -> None:
    populate(world, clients=1)
    size = world.ledger.log_size()
    signers = [TransparencyLog(world.ledger.engine, world.operator_key, world.ledger.settings.log_origin)
               for _ in range(4)]
    results: list[bytes] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(signers))

    def sign(log: TransparencyLog) -> None:
        try:
            start.wait()
            results.append(log.checkpoint(size).note)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sign, args=(log,)) for log in signers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 4 and len(set(results)) == 1
    with world.ledger.engine.connect() as connection:
        assert connection.execute(select(func.count()).where(checkpoints.c.tree_size == size)).scalar_one() == 1


def test_proofs_from_the_application_verify_with_ledger_merkle(world: World) -> None:
    populate(world, clients=1)
    hashes = leaf_hashes(world.ledger)
    log = world.ledger.transparency
    for size in (1, 2, 3, 7, 8, 9, len(hashes)):
        root = log.root(size)
        assert root == root_hash(hashes[:size])
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            assert proof == inclusion_proof(hashes[:size], index)
            verify_inclusion(index, size, hashes[index], proof, root)
        for old in range(1, size + 1):
            proof = log.consistency_proof(old, size)
            assert proof == consistency_proof(hashes[:size], old)
            verify_consistency(old, size, root_hash(hashes[:old]), root, proof)
    with pytest.raises(TreeInputError):
        log.inclusion_proof(3, 3)
    with pytest.raises(TreeInputError):
        log.consistency_proof(0, 3)
    with pytest.raises(BeyondLog):
        log.inclusion_proof(0, len(hashes) + 1)
    with pytest.raises(BeyondLog):
        log.consistency_proof(1, len(hashes) + 1)


def test_an_origin_that_cannot_name_a_key_is_a_configuration_error(world: World) -> None:
    with pytest.raises(SettingsError):
        TransparencyLog(world.ledger.engine, world.operator_key, "an origin with spaces")


def test_operator_key_rotation_keeps_old_checkpoints_verifying(database_url: str, tmp_path: Path) -> None:
    world = make_world(database_url)
    populate(world, clients=1)
    old_key, new_key = world.operator_key, Ed25519PrivateKey.generate()
    world.submit("operator", registry("KeyAdded", party_id="operator", public_key=b64encode(public_key_bytes(new_key))))
    before_rotation = world.ledger.checkpoint()  # signed with the old key, still live
    world.ledger.close()

    rotated = World(Ledger(Settings(database_url, new_key, world.ledger.settings.pseudonym_key)), world.keys)
    rotated.submit("operator", registry("KeyRevoked", party_id="operator", key_id=key_id_for(public_key_bytes(old_key))))
    populate(rotated, clients=1)
    after_rotation = rotated.ledger.checkpoint()
    export_bundle(rotated.ledger, tmp_path / "bundle")
    old_vkey = verifier_key_string(rotated.ledger.transparency.key_name, public_key_bytes(old_key))
    with pytest.raises(SettingsError):  # the revoked key can no longer run the ledger
        Ledger(Settings(database_url, old_key, world.ledger.settings.pseudonym_key))
    rotated.ledger.close()

    verified = verify_bundle(tmp_path / "bundle")
    assert verified.operator_keys == [old_vkey, rotated.ledger.transparency.verifier_key]
    assert open_checkpoint(before_rotation.note, [old_vkey]).size == before_rotation.tree_size
    assert open_checkpoint(after_rotation.note, [rotated.ledger.transparency.verifier_key])
    # anchored by either key: the old one registered the genesis, the new one signed checkpoints
    assert "genesis" in verify_bundle(tmp_path / "bundle", trusted_key=old_vkey).anchor
    assert "signed by the trusted" in verify_bundle(tmp_path / "bundle",
                                                    trusted_key=rotated.ledger.transparency.verifier_key).anchor
    stranger = verifier_key_string(rotated.ledger.transparency.key_name, os.urandom(32))
    with pytest.raises(VerificationFailed) as caught:
        verify_bundle(tmp_path / "bundle", trusted_key=stranger)
    assert caught.value.rule == "trust.anchor"
    # the auditor's checkpoint from before the rotation still proves the log extends it
    assert verify_bundle(tmp_path / "bundle", against=before_rotation.note).against == before_rotation.tree_size


def test_a_ledger_whose_operator_key_is_revoked_signs_nothing_more(database_url: str, tmp_path: Path) -> None:
    """Revoked by this process or by another one: no more receipts, no more checkpoints;
    what was recorded stands, and a ledger with the new key carries on."""
    world = make_world(database_url)
    old_key, new_key = world.operator_key, Ed25519PrivateKey.generate()
    world.submit("operator", registry("KeyAdded", party_id="operator", public_key=b64encode(public_key_bytes(new_key))))
    other = World(Ledger(Settings(database_url, old_key, world.ledger.settings.pseudonym_key)), world.keys)  # another process
    other.ledger.checkpoint()
    revocation = registry("KeyRevoked", party_id="operator", key_id=key_id_for(public_key_bytes(old_key)))
    size = world.ledger.log_size()

    with pytest.raises(OperatorKeyNotLive):  # it revoked its own key: recorded, but not signed
        world.submit("operator", revocation)
    assert world.ledger.log_size() == size + 1
    checkpoints = len(list(world.ledger.transparency.checkpoints()))
    for ledger in (world.ledger, other.ledger):
        with pytest.raises(OperatorKeyNotLive):
            ledger.checkpoint()
        with pytest.raises(OperatorKeyNotLive):
            ledger.submit(world.signed("gemeente-haarlem", commission(ledger.pseudonym("111222333"))))
    assert world.ledger.log_size() == size + 1  # nothing more recorded
    assert len(list(world.ledger.transparency.checkpoints())) == checkpoints  # nothing more signed
    other.ledger.close()
    world.ledger.close()

    rotated = Ledger(Settings(database_url, new_key, world.ledger.settings.pseudonym_key))
    receipt = rotated.receipt(revocation["envelope_id"])
    assert receipt is not None and receipt.accepted and receipt.log_index == size
    assert rotated.checkpoint().tree_size == size + 1
    opened = open_checkpoint(rotated.checkpoint().note, [rotated.transparency.verifier_key])  # by the new key
    assert opened.size == size + 1
    export_bundle(rotated, tmp_path / "bundle")  # every checkpoint signed by a key live at its size
    assert verify_bundle(tmp_path / "bundle", workers=0).tree_size == size + 1
    rotated.close()


def test_proofs_over_several_tiles_equal_ledger_merkle_and_stay_right_as_the_log_grows(database_url: str) -> None:
    """Proofs are built from perfect subtrees of 256 leaves and more, kept once hashed: over
    logs of several tiles they must equal the proofs over all the leaves, before and after
    the log grows, from a warm or a cold cache."""
    engine = create_engine(database_url)
    try:
        upgrade(engine)
        _check_proofs_over_tiles(engine)
    finally:
        engine.dispose()


def _check_proofs_over_tiles(engine: Engine) -> None:
    hashes = [hashlib.sha256(b"leaf %d" % i).digest() for i in range(1400)]

    def store(start: int, end: int) -> None:
        with engine.begin() as connection:
            connection.execute(insert(log_entries), [
                {"log_index": i, "originator_id": uuid.UUID(int=i + 1), "originator_version": 1, "envelope_id": str(i),
                 "leaf_hash": hashes[i], "recorded_at": "2026-01-01T00:00:00.000000Z"} for i in range(start, end)])

    store(0, 1100)
    warm = TransparencyLog(engine, Ed25519PrivateKey.generate(), "trajectledger.example/log")
    rng = random.Random(5)
    for size in (255, 256, 257, 511, 512, 1024, 1025, 1100):
        for index in {0, 255, 256, size - 1, rng.randrange(size)}:
            if index < size:
                assert warm.inclusion_proof(index, size) == inclusion_proof(hashes[:size], index)
        for old in {1, 255, 256, 257, size // 2 or 1, size}:
            if old <= size:
                assert warm.consistency_proof(old, size) == consistency_proof(hashes[:size], old)
    store(1100, 1400)  # the log grows: what was kept still holds
    cold = TransparencyLog(engine, Ed25519PrivateKey.generate(), "trajectledger.example/log")
    for log in (warm, cold):
        for index in (0, 700, 1023, 1024, 1399):
            assert log.inclusion_proof(index, 1400) == inclusion_proof(hashes, index)
        assert log.consistency_proof(1100, 1400) == consistency_proof(hashes, 1100)
