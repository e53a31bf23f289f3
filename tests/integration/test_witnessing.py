"""The ledger's witnessing rounds on SQLite and PostgreSQL, against in-process witnesses (the HTTP
hop replaced by a function): the quorum collected, the 409 followed, only missing witnesses asked,
concurrent rounds merged into the stored note, and ingest never waiting for a witness."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.checkpoint import verifier_key_string
from ledger.domain.cosignature import cosigner_vkey, verify_cosignatures
from ledger.domain.witness_policy import Policy, parse_policy
from ledger.infra.transparency.witnessing import HttpReply, Witnessing
from ledger.settings import SettingsError
from ledger.witness.request import parse_request
from ledger.witness.state import WitnessState
from ledger.witness.witness import Witness
from tests.support import World, make_world


class Witnesses:
    """Three witnesses A, B, C at http://a, http://b, http://c; ``down`` ones refuse connections."""

    def __init__(self, tmp_path: Path, log_vkey: str) -> None:
        self.keys = {n: Ed25519PrivateKey.generate() for n in "abc"}
        self.witnesses = {n: Witness(f"{n}.example/w", k, [log_vkey], WitnessState(tmp_path / f"{n}.sqlite3"))
                          for n, k in self.keys.items()}
        self.down: set[str] = set()
        self.requests: list[tuple[str, int, int]] = []  # (witness, old size, checkpoint size)
        self.gate: threading.Event | None = None

    def vkey(self, n: str) -> str:
        return cosigner_vkey(f"{n}.example/w", self.keys[n].public_key().public_bytes_raw())

    def policy(self, quorum: str = "group q 2 A B C\nquorum q", names: str = "abc") -> Policy:
        lines = [f"witness {n.upper()} {self.vkey(n)} http://{n}" for n in names]
        return parse_policy(("\n".join(lines) + f"\n{quorum}\n").encode())

    def post(self, url: str, body: bytes, timeout: float) -> HttpReply:
        name = url.split("/")[2]
        if self.gate is not None:
            self.gate.wait(timeout)
        if name in self.down:
            raise OSError("[Errno 111] Connection refused")
        request = parse_request(body)
        size = int(request.note.split(b"\n")[1])
        self.requests.append((name, request.old_size, size))
        reply = self.witnesses[name].add_checkpoint(body)
        return HttpReply(reply.status, reply.content_type, reply.body)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    world = make_world(database_url)
    yield world
    world.ledger.close()


def cosigned_by(world: World, witnesses: Witnesses) -> list[str]:
    newest = world.ledger.transparency.latest()
    assert newest is not None
    found = verify_cosignatures(newest.note, [w.cosigner for w in witnesses.policy().witnesses.values()])
    return sorted(c.cosigner.name[0] for c in found)


def test_a_round_collects_the_quorum_and_follows_409s(world: World, tmp_path: Path) -> None:
    witnesses = Witnesses(tmp_path, world.ledger.transparency.verifier_key)
    witnesses.down = {"c"}
    first = world.ledger.checkpoint().tree_size
    witnessing = Witnessing(world.ledger.transparency, witnesses.policy(), poster=witnesses.post)
    outcomes = witnessing.round()
    assert [(o.witness, o.problem is None) for o in outcomes] == [("A", True), ("B", True), ("C", False)]
    assert cosigned_by(world, witnesses) == ["a", "b"]
    witnesses.requests.clear()
    assert [o.witness for o in witnessing.round()] == ["C"]  # A and B have cosigned: only C is asked again

    world.register("late-provider", "provider")
    second = world.ledger.checkpoint().tree_size
    restarted = Witnessing(world.ledger.transparency, witnesses.policy(), poster=witnesses.post)  # knows no sizes
    witnesses.requests.clear()
    restarted.round()
    assert sorted(witnesses.requests) == [("a", 0, second), ("a", first, second), ("b", 0, second), ("b", first, second)]
    assert cosigned_by(world, witnesses) == ["a", "b"]
    witnesses.requests.clear()
    world.register("later-provider", "provider")
    third = world.ledger.checkpoint().tree_size
    restarted.round()  # the sizes are known now: one request each, from the last cosigned size
    assert sorted(witnesses.requests) == [("a", second, third), ("b", second, third)]
    witnessing.close()
    restarted.close()


def test_concurrent_rounds_keep_each_other_s_cosignatures(world: World, tmp_path: Path) -> None:
    witnesses = Witnesses(tmp_path, world.ledger.transparency.verifier_key)
    world.ledger.checkpoint()
    only_a = Witnessing(world.ledger.transparency, witnesses.policy("quorum A", "a"), poster=witnesses.post)
    only_bc = Witnessing(world.ledger.transparency, witnesses.policy("quorum B", "bc"), poster=witnesses.post)
    threads = [threading.Thread(target=w.round) for w in (only_a, only_bc)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cosigned_by(world, witnesses) == ["a", "b", "c"]
    only_a.close()
    only_bc.close()


def test_ingest_never_waits_for_a_witness(world: World, tmp_path: Path) -> None:
    witnesses = Witnesses(tmp_path, world.ledger.transparency.verifier_key)
    witnesses.gate = threading.Event()  # every witness hangs until released
    world.ledger.checkpoint()
    witnessing = Witnessing(world.ledger.transparency, witnesses.policy(), every_seconds=0.05, timeout=30,
                            poster=witnesses.post)
    witnessing.start()
    time.sleep(0.2)  # a round is under way, stuck on the witnesses
    started = time.monotonic()
    world.register("while-hung", "provider")
    stored = world.ledger.checkpoint()
    assert time.monotonic() - started < 2 and stored.note.count("\u2014".encode()) == 1
    witnesses.gate.set()
    deadline = time.monotonic() + 10
    while cosigned_by(world, witnesses) != ["a", "b", "c"] and time.monotonic() < deadline:
        time.sleep(0.05)
    witnessing.close()
    assert cosigned_by(world, witnesses) == ["a", "b", "c"]


def test_a_policy_for_another_log_is_refused(world: World, tmp_path: Path) -> None:
    witnesses = Witnesses(tmp_path, world.ledger.transparency.verifier_key)
    another = verifier_key_string(world.ledger.transparency.origin, Ed25519PrivateKey.generate().public_key()
                                  .public_bytes_raw())
    policy = parse_policy(f"log {another}\n".encode() + witnesses.policy().text.encode())
    with pytest.raises(SettingsError, match="TRAJECTLEDGER_WITNESS_POLICY: .*policy.log-key"):
        Witnessing(world.ledger.transparency, policy, poster=witnesses.post)


def test_an_export_while_witnesses_cosign_stays_consistent(world: World, tmp_path: Path) -> None:
    """Cosignatures added to the newest note while an export runs: its ``checkpoint`` file is the
    note as ``checkpoints.jsonl`` has it, and the bundle verifies."""
    from ledger.bundle.export import export_bundle
    from ledger.verify import verify_bundle

    witnesses = Witnesses(tmp_path, world.ledger.transparency.verifier_key)
    witnessing = Witnessing(world.ledger.transparency, witnesses.policy(), poster=witnesses.post)
    log = world.ledger.transparency
    listed = log.checkpoints

    def cosigned_meanwhile(up_to: int | None = None) -> Iterator[Any]:
        witnessing.round()  # the background round lands between the export's two reads
        return listed(up_to)

    log.checkpoints = cosigned_meanwhile  # type: ignore[method-assign]
    try:
        export_bundle(world.ledger, tmp_path / "bundle")
    finally:
        del log.checkpoints
        witnessing.close()
    assert (tmp_path / "bundle" / "checkpoint").read_bytes().count("\u2014".encode()) == 4
    assert verify_bundle(tmp_path / "bundle", workers=0).tree_size == log.size()


def test_the_published_checkpoint_is_the_newest_the_quorum_cosigned(world: World, tmp_path: Path) -> None:
    """2 of 3: served is the newest checkpoint whose cosignatures make the quorum (checked by the
    verifier's step 9), not a newer one that has too few, nor one before any round."""
    from ledger.infra.transparency.published import NotWitnessed, PublishedCheckpoints
    from ledger.verify.witnesses import check_witnesses

    witnesses = Witnesses(tmp_path, world.ledger.transparency.verifier_key)
    policy = witnesses.policy()
    published = PublishedCheckpoints(world.ledger.transparency, policy)
    witnessing = Witnessing(world.ledger.transparency, policy, poster=witnesses.post)
    first = world.ledger.checkpoint().tree_size
    with pytest.raises(NotWitnessed, match="no checkpoint is cosigned by the witness quorum"):
        published.newest()
    witnesses.down = {"c"}
    witnessing.round()
    assert published.newest().tree_size == first
    assert check_witnesses(published.newest().note, policy).cosigned.keys() == {"A", "B"}

    witnesses.down = {"b", "c"}  # one cosignature only: short of the quorum
    world.register("late-provider", "provider")
    second = world.ledger.checkpoint().tree_size
    witnessing.round()
    assert cosigned_by(world, witnesses) == ["a"] and second > first
    served = published.newest()
    assert served.tree_size == first and check_witnesses(served.note, policy).tree_size == first

    witnesses.down = set()
    witnessing.round()  # B and C add theirs to the newest: it is published now, C's line included
    served = published.newest()
    assert served.tree_size == second and check_witnesses(served.note, policy).cosigned.keys() == {"A", "B", "C"}
    assert PublishedCheckpoints(world.ledger.transparency, policy).newest() == served  # another process finds it too
    assert PublishedCheckpoints(world.ledger.transparency, None).newest().tree_size == second  # no policy: the newest
    witnessing.close()
