"""The SDK (sdk/client.py) against the app: safe retries, and receipts it refuses to trust."""

from __future__ import annotations

import json
from typing import Callable

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.checkpoint import Checkpoint, sign_checkpoint, verifier_key_string
from ledger.domain.merkle.batch import BatchTree, Frontier
from ledger.domain.receipt import Receipt, receipt_from_dict
from sdk.client import LedgerClient, ProblemError, VerificationFailed
from tests.api.support import BASE_URL, HAARLEM, ApiWorld
from tests.support import commission

REF = "cd" * 32
Handler = Callable[[httpx.Request], httpx.Response]


def client_over(world: ApiWorld, handler: Handler, **options: object) -> tuple[LedgerClient, list[float]]:
    slept: list[float] = []
    http = httpx.Client(transport=httpx.MockTransport(handler), base_url=BASE_URL)
    options = {"ledger_key": world.ledger_key, "sleep": slept.append, **options}
    pinned = options["ledger_key"]
    if isinstance(pinned, bytes):  # pin the checkpoint key too: then the client asks only what the test counts
        options.setdefault("checkpoint_key", verifier_key_string(world.settings.log_origin, pinned))
    client = LedgerClient(http, HAARLEM, world.keys[HAARLEM], **options)  # type: ignore[arg-type]
    return client, slept


def log_size(world: ApiWorld) -> int:
    return int(world.http().get("/v1/health").json()["log_size"])


def test_a_lost_response_is_retried_with_the_same_envelope_and_recorded_once(world: ApiWorld) -> None:
    calls: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.read())["payload"]["envelope_id"])
        response = world.bridge.handle_request(request)  # the ledger records it ...
        if len(calls) == 1:
            raise httpx.ReadError("connection reset", request=request)  # ... and the answer is lost
        return response

    client, slept = client_over(world, flaky)
    before = log_size(world)
    envelope = client.envelope("TrajectoryCommissioned", **commission(REF))
    receipt = client.submit(envelope)
    assert receipt.accepted and len(calls) == 2 and calls[0] == calls[1] == envelope.envelope_id
    assert log_size(world) == before + 1 and len(slept) == 1


def test_503_and_429_are_retried_honouring_retry_after(world: ApiWorld) -> None:
    answers = [httpx.Response(503, json={"rule": "ledger.busy"}), httpx.Response(429, headers={"Retry-After": "2"})]

    def busy_then_fine(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if answers else world.bridge.handle_request(request)

    client, slept = client_over(world, busy_then_fine)
    assert client.pseudonym("111222333") == world.app.state.ledger.pseudonym("111222333")
    assert len(slept) == 2 and slept[1] == 2.0


def test_the_client_gives_up_after_its_attempts(world: ApiWorld) -> None:
    client, slept = client_over(world, lambda request: httpx.Response(503, json={"rule": "ledger.busy", "detail": "x"}),
                                attempts=3)
    with pytest.raises(ProblemError) as failed:
        client.submit(client.envelope("TrajectoryCommissioned", **commission(REF)))
    assert failed.value.status == 503 and len(slept) == 2


def test_a_tampered_or_foreign_receipt_is_refused(world: ApiWorld) -> None:
    def tamper(change: Callable[[dict[str, object]], None]) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            response = world.bridge.handle_request(request)
            body = response.json()
            change(body)
            return httpx.Response(response.status_code, json=body)
        return handler

    for change in (lambda body: body.update(verdict="refused"), lambda body: body.update(log_index=0)):
        client, _ = client_over(world, tamper(change))
        with pytest.raises(VerificationFailed):
            client.submit(client.envelope("TrajectoryCommissioned", **commission(REF)))
    client, _ = client_over(world, lambda request: world.bridge.handle_request(request),
                            ledger_key=bytes(32))
    with pytest.raises(VerificationFailed):
        client.submit(client.envelope("TrajectoryCommissioned", **commission(REF)))


def test_a_receipt_signed_by_the_operator_for_another_leaf_is_refused(world: ApiWorld) -> None:
    def relabel(request: httpx.Request) -> httpx.Response:
        """A dishonest operator: a checkpoint it signed over a tree holding another leaf."""
        response = world.bridge.handle_request(request)
        receipt = receipt_from_dict(response.json())
        assert isinstance(receipt, Receipt)
        index, other = receipt.log_index, bytes(32)
        tree = BatchTree(Frontier().extended([bytes([1]) * 32] * index), [other])
        origin = world.settings.log_origin
        note = sign_checkpoint(Checkpoint(origin, tree.size, tree.root(), ("time 2026-01-01T00:00:00.000000Z",)),
                               origin, world.settings.operator_key)
        forged = Receipt(receipt.envelope_id, receipt.verdict, receipt.refusal, receipt.recorded_at, index,
                         other.hex(), tree.size, note, tree)
        return httpx.Response(201, json=forged.as_dict())

    client, _ = client_over(world, relabel)
    with pytest.raises(VerificationFailed) as failed:
        client.submit(client.envelope("TrajectoryCommissioned", **commission(REF)))
    assert "leaf hash" in str(failed.value)


def test_the_ledger_key_is_fetched_once_when_not_pinned(world: ApiWorld) -> None:
    fetched: list[str] = []

    def count(request: httpx.Request) -> httpx.Response:
        fetched.append(request.url.path)
        return world.bridge.handle_request(request)

    client, _ = client_over(world, count, ledger_key=None)
    for _ in range(2):
        assert client.submit(client.envelope("TrajectoryCommissioned", **commission(REF))).accepted
    assert fetched.count("/v1/ledger-key") == 1 and client.ledger_key() == world.ledger_key


def test_a_batch_of_more_than_500_goes_in_several_requests(world: ApiWorld) -> None:
    posts: list[int] = []

    def count(request: httpx.Request) -> httpx.Response:
        posts.append(len(json.loads(request.read())["envelopes"]))
        return world.bridge.handle_request(request)

    client, _ = client_over(world, count)
    envelopes = [client.envelope("BenefitStarted", "2024-01-01", client_ref=f"{i:064x}", benefit_id=f"{i:08x}-0000-4000-8000-000000000000",
                                 benefit="WW", start="2024-01-01") for i in range(501)]
    envelopes.append(client.envelope("TrajectoryCommissioned", **commission(REF, provider="nobody-known")))
    results = client.submit_batch(envelopes)
    assert posts == [500, 2]
    assert sum(isinstance(r, Receipt) and r.accepted for r in results) == 501
    assert isinstance(results[-1], Receipt) and results[-1].refusal["rule"] == "reference.unknown"  # type: ignore[index]


def test_a_not_recorded_envelope_is_a_problem_error(world: ApiWorld) -> None:
    client = world.client(HAARLEM)
    envelope = client.envelope("TrajectoryCommissioned", **commission(REF))
    stranger = LedgerClient(world.http(), HAARLEM, Ed25519PrivateKey.generate(), ledger_key=world.ledger_key)
    with pytest.raises(ProblemError) as failed:
        stranger.submit(stranger.envelope("TrajectoryCommissioned", **commission(REF)))
    assert (failed.value.status, failed.value.rule, failed.value.field) == (422, "key.unknown", "key_id")
    assert client.submit(envelope).accepted
