"""The transparency log over HTTP: signed checkpoints, RFC 9162 proofs checked by the SDK,
and the export bundle, downloaded and verified offline."""

from __future__ import annotations

import dataclasses
import tarfile
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.checkpoint import open_checkpoint
from ledger.domain.receipt import Receipt, receipt_from_dict
from ledger.verify import verify_bundle
from sdk.client import LedgerClient, ProblemError, VerificationFailed
from tests.api.support import AUDITOR, BASE_URL, HAARLEM, IDLE_AUDITOR, WERKFIT, ApiWorld, Story
from tests.support import commission

REF = "ef" * 32


def test_the_checkpoint_is_public_and_signed_by_the_published_key(world: ApiWorld) -> None:
    http = world.http()
    verifier_key = http.get("/v1/ledger-key").json()["checkpoint_verifier_key"]
    body = http.get("/v1/log/checkpoint").json()
    checkpoint = open_checkpoint(body["note"].encode("utf-8"), [verifier_key])
    assert checkpoint.size == body["tree_size"] == http.get("/v1/health").json()["log_size"]
    assert checkpoint.root_hash.hex() == body["root_hash"]
    listed = http.get("/v1/log/checkpoints", params={"limit": 500}).json()
    assert body in listed["items"] and listed["total"] == len(listed["items"])


def test_a_receipt_is_proven_in_the_log_and_the_log_only_grows(world: ApiWorld, story: Story) -> None:
    haarlem = world.client(HAARLEM)
    receipt = haarlem.submit(haarlem.envelope("TrajectoryCommissioned", **commission(REF)))
    first = haarlem.prove_inclusion(receipt)
    assert first.size > receipt.log_index
    refused = receipt_from_dict(story.refused.json()["receipt"])
    assert isinstance(refused, Receipt)
    assert world.client(WERKFIT).prove_inclusion(refused).size >= first.size
    later = haarlem.submit(haarlem.envelope("TrajectoryCommissioned", **commission(REF)))
    second = haarlem.prove_inclusion(later)
    assert second.size > first.size
    haarlem.prove_consistency(first, second)
    with pytest.raises(VerificationFailed):
        haarlem.prove_consistency(first, type(second)(second.origin, second.size, bytes(32)))


def test_a_tampered_proof_or_leaf_fails_verification(world: ApiWorld) -> None:
    haarlem = world.client(HAARLEM)
    receipt = haarlem.submit(haarlem.envelope("TrajectoryCommissioned", **commission(REF)))

    def flip(request: httpx.Request) -> httpx.Response:
        response = world.bridge.handle_request(request)
        if request.url.path.endswith("/inclusion-proof"):
            body = response.json()
            body["proof"][0] = "00" * 32
            return httpx.Response(200, json=body)
        return response

    bent = LedgerClient(httpx.Client(transport=httpx.MockTransport(flip), base_url=BASE_URL), HAARLEM,
                        world.keys[HAARLEM], ledger_key=world.ledger_key)
    with pytest.raises(VerificationFailed):
        bent.prove_inclusion(receipt)
    with pytest.raises(VerificationFailed):
        haarlem.prove_inclusion(dataclasses.replace(receipt, leaf_hash="11" * 32))


def test_proof_parameters_outside_the_tree_are_4xx(world: ApiWorld) -> None:
    size = world.http().get("/v1/health").json()["log_size"]
    beyond = world.signed(WERKFIT, "GET", "/log/inclusion-proof", params={"logIndex": 0, "treeSize": size + 5})
    assert beyond.status_code == 404 and beyond.json()["rule"] == "log.beyond-size"
    outside = world.signed(WERKFIT, "GET", "/log/inclusion-proof", params={"logIndex": size, "treeSize": size})
    assert outside.status_code == 400 and outside.json()["rule"] == "log.position"
    backwards = world.signed(WERKFIT, "GET", "/log/consistency-proof", params={"oldSize": size, "treeSize": 1})
    assert backwards.status_code == 400
    unsigned = world.http().get("/v1/log/inclusion-proof", params={"logIndex": 0, "treeSize": 1})
    assert unsigned.status_code == 401


def test_an_auditor_downloads_the_export_and_it_verifies_offline(world: ApiWorld, story: Story,
                                                                  tmp_path: Path) -> None:
    size = world.http().get("/v1/health").json()["log_size"]
    archive = world.client(AUDITOR).download_export(tmp_path / "export.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    verifier_key = world.http().get("/v1/ledger-key").json()["checkpoint_verifier_key"]
    verified = verify_bundle(tmp_path / "trajectledger-export", trusted_key=verifier_key, workers=0)
    assert verified.tree_size == size
    # scoped to the mandate: the client's UWV trajectory is withheld, so its dossier is held in part
    assert verified.scope is not None and list(verified.scope.partial) == [story.client_ref]
    assert verified.clients == 0


@pytest.mark.parametrize("party", [WERKFIT, HAARLEM, IDLE_AUDITOR])
def test_the_export_is_for_the_operator_and_mandated_auditors(world: ApiWorld, party: str, tmp_path: Path) -> None:
    with pytest.raises(ProblemError) as refused:
        world.client(party).download_export(tmp_path / "export.tar.gz")
    assert refused.value.status == 403


def test_with_a_witness_policy_the_published_checkpoint_is_the_cosigned_one(world: ApiWorld) -> None:
    """Before any checkpoint has the quorum: 404 (JSON problem, and plain for the tiles), the
    newest at /checkpoint/newest; once the newest is cosigned, it is served under the policy."""
    from sqlalchemy import update

    from api.app import create_app
    from api.settings import ApiSettings
    from ledger.domain.cosignature import cosign, cosigner_vkey, with_signatures
    from ledger.domain.witness_policy import parse_policy
    from ledger.infra.storage.tables import checkpoints
    from ledger.verify.witnesses import check_witnesses
    from tests.api.bridge import ASGIBridge

    key = Ed25519PrivateKey.generate()
    vkey = cosigner_vkey("a.example/w", key.public_key().public_bytes_raw())
    policy = parse_policy(f"witness A {vkey} http://127.0.0.1:9\nquorum A\n".encode())
    app = create_app(ApiSettings(dataclasses.replace(world.settings, witness_policy=policy)))
    http = httpx.Client(transport=ASGIBridge(app), base_url=BASE_URL)
    try:
        refused = http.get("/v1/log/checkpoint")
        assert refused.status_code == 404 and refused.json()["rule"] == "checkpoint.not-witnessed"
        assert http.get("/log/checkpoint").status_code == 404
        newest = http.get("/v1/log/checkpoint/newest").json()
        assert newest["tree_size"] == http.get("/v1/health").json()["log_size"]

        note = newest["note"].encode()
        body = note[:note.index(b"\n\n") + 1]
        cosigned = with_signatures(note, [cosign(body, "a.example/w", key, 1_767_225_600)])
        with app.state.ledger.engine.begin() as connection:
            connection.execute(update(checkpoints).where(checkpoints.c.tree_size == newest["tree_size"])
                               .values(note=cosigned.decode()))
        served = http.get("/v1/log/checkpoint").json()
        assert served["tree_size"] == newest["tree_size"] and served["note"].encode() == cosigned
        assert check_witnesses(cosigned, policy).cosigned == {"A": 1_767_225_600}
        assert http.get("/log/checkpoint").content == cosigned
    finally:
        http.close()
        app.state.ledger.close()
