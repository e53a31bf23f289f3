"""A served ledger with a 2-of-3 witness policy, three witnesses over HTTP (one of them down):
the checkpoints it publishes get two cosignatures, ``verify --witness-policy`` accepts its export,
and fails once the newest checkpoint lacks the quorum."""

from __future__ import annotations

import dataclasses
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.app import create_app
from api.settings import ApiSettings
from api.witness_app import create_witness_app
from cli.main import main
from ledger.bundle.export import export_bundle
from ledger.domain.cosignature import cosigner_vkey
from ledger.domain.witness_policy import parse_policy
from ledger.verify.witnesses import check_witnesses
from ledger.witness.state import WitnessState
from ledger.witness.witness import Witness
from tests.e2e.server import free_port, running
from tests.support import World, make_world
from tests.unit.test_cosignature import spec_verify

NAMES = ("a.example/w", "b.example/w", "c.example/w")


def cosigners_on(note: bytes, keys: dict[str, Ed25519PrivateKey]) -> list[str]:
    """The witnesses whose cosignature on ``note`` verifies by the spec text (independent code)."""
    body = note[:note.index(b"\n\n") + 1]
    found = []
    for line in note[note.index(b"\n\n") + 2:].decode().splitlines(keepends=True):
        name = line.split(" ")[1]
        if name in keys:
            spec_verify(line, name, keys[name].public_key().public_bytes_raw(), body)
            found.append(name)
    return sorted(found)


def newest_note(url: str, cosigned: int) -> bytes:
    """The newest stored checkpoint as the API serves it, once it carries ``cosigned`` extra lines."""
    deadline = time.monotonic() + 15
    while True:
        total = httpx.get(f"{url}/v1/log/checkpoints", params={"limit": 1}).json()["total"]
        page = httpx.get(f"{url}/v1/log/checkpoints", params={"limit": 1, "offset": total - 1}).json()
        note = str(page["items"][0]["note"]).encode()
        if note.count("\u2014".encode()) >= 1 + cosigned or time.monotonic() > deadline:
            return note
        time.sleep(0.1)


def test_a_2_of_3_policy_publishes_cosigned_checkpoints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = make_world(f"sqlite:///{tmp_path}/ledger.sqlite3")
    log_vkey, settings = world.ledger.transparency.verifier_key, world.ledger.settings
    world.ledger.close()
    keys = {name: Ed25519PrivateKey.generate() for name in NAMES}
    with ExitStack() as stack:
        witnesses = {name: stack.enter_context(ExitStack()) for name in NAMES[:2]}
        urls = {name: witnesses[name].enter_context(running(create_witness_app(
            Witness(name, keys[name], [log_vkey], WitnessState(tmp_path / f"{name[0]}.sqlite3"))), lifespan=True)) for name in NAMES[:2]}
        urls[NAMES[2]] = f"http://127.0.0.1:{free_port()}"  # the third witness is down
        lines = [f"log {log_vkey}"] + [
            f"witness {name[0].upper()} {cosigner_vkey(name, keys[name].public_key().public_bytes_raw())} {urls[name]}"
            for name in NAMES] + ["group two-of-three 2 A B C", "quorum two-of-three", ""]
        policy_file = tmp_path / "policy.txt"
        policy_file.write_text("\n".join(lines))
        served = dataclasses.replace(settings, witness_policy=parse_policy(policy_file.read_bytes()),
                                     witness_every_seconds=0.2, witness_timeout_seconds=2)
        app = create_app(ApiSettings(served, signing_workers=0))
        url = stack.enter_context(running(app, lifespan=True))

        httpx.get(f"{url}/v1/log/checkpoint/newest").raise_for_status()  # a checkpoint of the log now
        note = newest_note(url, cosigned=2)
        assert cosigners_on(note, keys) == ["a.example/w", "b.example/w"]  # C is down: 2 of 3, quorum met
        policy = parse_policy(policy_file.read_bytes())
        published = httpx.get(f"{url}/v1/log/checkpoint").json()  # the published checkpoint: this one
        assert published["note"].encode() == note and check_witnesses(note, policy).tree_size == published["tree_size"]
        assert httpx.get(f"{url}/log/checkpoint").content == note  # the tiles' too
        bundle = tmp_path / "bundle"
        export_bundle(app.state.ledger, bundle)
        assert main(["verify", str(bundle), "--witness-policy", str(policy_file)]) == 0
        out = capsys.readouterr().out
        assert "(9) the newest checkpoint is cosigned by the witness quorum (--witness-policy): ok" in out
        assert "quorum 2 of (A, B, C) met" in out

        witnesses[NAMES[1]].close()  # B goes down too; the log grows
        World(app.state.ledger).register("late-provider", "provider")
        httpx.get(f"{url}/v1/log/checkpoint").raise_for_status()
        note = newest_note(url, cosigned=1)  # one round asks A and B together and stores what came back
        assert cosigners_on(note, keys) == ["a.example/w"]
        newest = httpx.get(f"{url}/v1/log/checkpoint/newest").json()
        still = httpx.get(f"{url}/v1/log/checkpoint").json()  # short of the quorum: the older one stays published
        assert still["tree_size"] < newest["tree_size"] and still["note"] == published["note"]
        assert check_witnesses(still["note"].encode(), policy).cosigned.keys() == {"A", "B"}
        assert httpx.get(f"{url}/log/checkpoint").text == still["note"]
        bundle = tmp_path / "bundle-later"
        export_bundle(app.state.ledger, bundle)
        assert main(["verify", str(bundle), "--witness-policy", str(policy_file)]) == 3
        out = capsys.readouterr().out
        assert "witness.quorum" in out and "cosigned by A; the policy needs 2 of (A, B, C)" in out
        assert main(["verify", str(bundle)]) == 0  # without a policy the bundle itself is sound
