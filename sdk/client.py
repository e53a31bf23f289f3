"""The Python SDK: a party's client for the trajectledger HTTP API (httpx).

    client = LedgerClient.connect("https://ledger.example.nl", "werkfit", private_key, ledger_key=pinned)
    ref = client.pseudonym("111222333")                 # the BSN goes in a request body, never a URL
    receipt = client.submit(client.envelope("PlacementClaimed", client_ref=ref, ...))

* Writes: the client builds a payload with a fresh ``envelope_id``, signs it
  (``ledger.domain.envelope.sign``) and posts the envelope. Retries (connection errors, 5xx,
  429) resend the *same* envelope, so they are safe: the ledger answers a repeated
  envelope with its original receipt.
* Every receipt is checked offline before it is returned (``ledger.domain.receipt_check``):
  a C2SP tlog-proof whose leaf is recomputed from the envelope this client signed and the
  receipt's verdict, refusal and recorded_at (RFC 9162 leaf of ``ledger.domain.entry``),
  and whose inclusion proof leads to a checkpoint signed by the operator (``ledger_key``,
  pinned by the caller or fetched once from ``GET /v1/ledger-key``), so a receipt cannot
  belong to another envelope or another verdict. ``check_receipt`` checks one kept
  earlier, of either format (format 1: one operator signature per receipt).
* Reads carry an HTTP Message Signature (RFC 9421) by the party's key; the primitives
  (``sdk.http_signatures``) are shared with the server (``api.signatures``), which verifies them.
* ``prove_inclusion(receipt)`` checks that a receipt's entry is in the log: a checkpoint
  signed by the operator (C2SP signed note) and an RFC 9162 inclusion proof to its root;
  ``prove_consistency(old, new)`` that a later checkpoint extends an earlier one.

``LedgerClient(http, ...)`` takes any ``httpx.Client`` - e.g. ``fastapi.testclient.TestClient(app)``
to run against the ASGI app in-process - and ``LedgerClient.connect(url, ...)`` makes one.
"""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.checkpoint import Checkpoint, CheckpointError, open_checkpoint, parse_verifier_key
from ledger.domain.entry import entry_body, leaf_bytes, now_utc, recording_date
from ledger.domain.envelope import Envelope, b64decode, key_id_for, public_key_bytes, sign
from ledger.domain.errors import LedgerError
from ledger.domain.merkle import MerkleError, verify_consistency, verify_inclusion
from ledger.domain.merkle.hashing import leaf_hash
from ledger.domain.receipt import Receipt, receipt_from_dict
from ledger.domain.receipt_check import verify_receipt
from ledger.domain.signed_receipt import SignedReceipt, verify_signed_receipt
from sdk.http_signatures import signature_headers

API_PREFIX = "/v1"
SIGNATURE_LIFETIME = 60  # seconds between created and expires on the client's signatures
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BATCH_LIMIT = 500

# --- errors ---------------------------------------------------------------------------------


class ClientError(Exception):
    """Base of the SDK's own errors."""


class ProblemError(ClientError):
    """The API answered with an RFC 9457 problem (and nothing was recorded)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.rule = str(problem.get("rule", ""))
        self.field = problem.get("field")
        self.detail = str(problem.get("detail", ""))
        super().__init__(f"HTTP {status} {self.rule}" + (f" [{self.field}]" if self.field else "") + f": {self.detail}")


class VerificationFailed(ClientError):
    """A receipt from the API does not verify: wrong key, signature, envelope or leaf."""


# --- the client -------------------------------------------------------------------------------


class LedgerClient:
    def __init__(
        self, http: httpx.Client, party_id: str, private_key: Ed25519PrivateKey, *,
        ledger_key: bytes | None = None, checkpoint_key: str | None = None, attempts: int = 5, backoff: float = 0.2,
        clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.party_id = party_id
        self.private_key = private_key
        self.key_id = key_id_for(public_key_bytes(private_key))
        self._ledger_key = ledger_key
        self._checkpoint_key = checkpoint_key  # pinned (C2SP verifier key string), else fetched once
        self._ledger_info: dict[str, Any] | None = None
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.clock = clock
        self.sleep = sleep

    @classmethod
    def connect(cls, base_url: str, party_id: str, private_key: Ed25519PrivateKey, *,
                transport: httpx.BaseTransport | None = None, timeout: float = 30.0, **options: Any) -> "LedgerClient":
        """A client with its own ``httpx.Client`` on ``base_url``: the server root or the API
        under it (``.../v1``), with or without a trailing slash - the one place it is normalised."""
        root = base_url.rstrip("/")
        if root.endswith(API_PREFIX):
            root = root[: -len(API_PREFIX)]
        return cls(httpx.Client(base_url=root, transport=transport, timeout=timeout), party_id, private_key, **options)

    def close(self) -> None:
        self.http.close()

    # --- writes ---------------------------------------------------------------------------

    def envelope(self, kind: str, occurred_on: str | None = None, **fields: Any) -> Envelope:
        """Build and sign a payload of ``kind`` with a fresh envelope_id (``occurred_on``
        defaults to today in the Netherlands)."""
        payload = {"envelope_id": str(uuid.uuid4()), "type": kind,
                   "occurred_on": occurred_on or recording_date(now_utc()).isoformat(), **fields}
        return sign(payload, self.party_id, self.private_key)

    def submit(self, envelope: Envelope) -> Receipt:
        """Submit one envelope; the verified receipt, whose verdict may be 'refused'.
        Raises ``ProblemError`` when nothing was recorded (malformed, unverifiable, ...)."""
        response = self._send("POST", "/envelopes", json=envelope.as_dict(), signed=False)
        body = self._json(response)
        if response.status_code == 201:
            return self._verified(envelope, body)
        if isinstance(body.get("receipt"), dict):
            return self._verified(envelope, body["receipt"])
        raise ProblemError(response.status_code, body)

    def submit_batch(self, envelopes: Sequence[Envelope]) -> list[Receipt | ProblemError]:
        """Submit many envelopes (in requests of at most 500); one result each, in order:
        a verified receipt (accepted or refused), or the problem of one not recorded."""
        results: list[Receipt | ProblemError] = []
        for start in range(0, len(envelopes), BATCH_LIMIT):
            chunk = envelopes[start:start + BATCH_LIMIT]
            response = self._send("POST", "/envelopes/_batch", json={"envelopes": [e.as_dict() for e in chunk]},
                                  signed=False)
            body = self._json(response)
            if response.status_code != 200:
                raise ProblemError(response.status_code, body)
            for envelope, item in zip(chunk, body["results"], strict=True):
                if item["status"] == 201:
                    results.append(self._verified(envelope, item["receipt"]))
                elif isinstance(item.get("problem", {}).get("receipt"), dict):
                    results.append(self._verified(envelope, item["problem"]["receipt"]))
                else:
                    results.append(ProblemError(item["status"], item.get("problem", {})))
        return results

    def _verified(self, envelope: Envelope, data: dict[str, Any]) -> Receipt:
        """A receipt from the server: a format 2 receipt, proof checked against the envelope."""
        receipt = self.check_receipt(data, envelope)
        if not isinstance(receipt, Receipt):
            raise VerificationFailed(f"the receipt for {envelope.envelope_id} is not a log proof (format 2)")
        return receipt

    def check_receipt(self, data: dict[str, Any], envelope: Envelope | None = None) -> Receipt | SignedReceipt:
        """Check a receipt offline (as served, or kept since), of either format, for
        ``envelope``: format 2, its tlog-proof against a checkpoint signed by the operator;
        format 1, the operator's signature. Without the envelope the leaf is not opened:
        see ``ledger.domain.receipt_check``."""
        try:
            receipt = receipt_from_dict(data)
            if isinstance(receipt, Receipt):
                verify_receipt(receipt, [self.checkpoint_key()], None if envelope is None else envelope.as_dict())
            else:
                verify_signed_receipt(receipt, self.ledger_key())
        except LedgerError as exc:
            named = f" for {envelope.envelope_id}" if envelope is not None else ""
            raise VerificationFailed(f"the receipt{named} does not verify: {exc}") from exc
        if envelope is not None and receipt.envelope_id != envelope.envelope_id:
            raise VerificationFailed(f"asked for {envelope.envelope_id}, the receipt is for {receipt.envelope_id}")
        if envelope is not None and isinstance(receipt, SignedReceipt):
            body = entry_body(envelope.as_dict(), receipt.verdict, receipt.refusal, receipt.recorded_at)
            if leaf_hash(leaf_bytes(body, receipt.log_index)).hex() != receipt.leaf_hash:
                raise VerificationFailed("the receipt's leaf hash is not that of the envelope this client signed")
        return receipt

    # --- the keys receipts and checkpoints are checked with --------------------------------

    def ledger_key(self) -> bytes:
        """The operator's public key that signs checkpoints (and signed format 1 receipts):
        pinned, else fetched once (trust on first use - pin it in production)."""
        if self._ledger_key is None:
            data = self._published()
            self._ledger_key = b64decode(data["public_key"], "public_key", 32)
            if key_id_for(self._ledger_key) != data["key_id"]:
                raise VerificationFailed("the published ledger key does not match its key id")
        return self._ledger_key

    def checkpoint_key(self) -> str:
        """The C2SP verifier key of checkpoints (and so of receipts): pinned, else the ledger
        key under the name the server publishes, fetched once."""
        if self._checkpoint_key is None:
            published = str(self._published()["checkpoint_verifier_key"])
            try:
                _, _, public_key = parse_verifier_key(published)
            except CheckpointError as exc:
                raise VerificationFailed(f"the published checkpoint key is malformed: {exc}") from exc
            if public_key != self.ledger_key():
                raise VerificationFailed("checkpoints are signed by another key than the ledger key")
            self._checkpoint_key = published
        return self._checkpoint_key

    def _published(self) -> dict[str, Any]:
        """``GET /v1/ledger-key``, asked once."""
        if self._ledger_info is None:
            self._ledger_info = self._json(self._send("GET", "/ledger-key", signed=False))
        return self._ledger_info

    # --- the transparency log ----------------------------------------------------------------

    def checkpoint(self) -> tuple[Checkpoint, bytes]:
        """A checkpoint of the whole log now, its signature checked; and the note as signed.
        (``/log/checkpoint`` is the published one, which may lag the log until witnesses cosign.)"""
        note = str(self._json(self._send("GET", "/log/checkpoint/newest", signed=False))["note"]).encode("utf-8")
        try:
            return open_checkpoint(note, [self.checkpoint_key()]), note
        except CheckpointError as exc:
            raise VerificationFailed(f"the checkpoint does not verify: {exc}") from exc

    def prove_inclusion(self, receipt: Receipt) -> Checkpoint:
        """Check that the receipt's entry is leaf ``log_index`` of the signed log; the checkpoint."""
        checkpoint, _ = self.checkpoint()
        proof = self.get("/log/inclusion-proof", logIndex=receipt.log_index, treeSize=checkpoint.size)["proof"]
        try:
            verify_inclusion(receipt.log_index, checkpoint.size, bytes.fromhex(receipt.leaf_hash),
                             [bytes.fromhex(h) for h in proof], checkpoint.root_hash)
        except (MerkleError, ValueError) as exc:
            raise VerificationFailed(f"entry {receipt.log_index} is not in the signed log: {exc}") from exc
        return checkpoint

    def prove_consistency(self, old: Checkpoint, new: Checkpoint) -> None:
        """Check that the log of ``new`` extends the log of ``old`` (both already verified)."""
        proof = self.get("/log/consistency-proof", oldSize=old.size, treeSize=new.size)["proof"]
        try:
            verify_consistency(old.size, new.size, old.root_hash, new.root_hash, [bytes.fromhex(h) for h in proof])
        except (MerkleError, ValueError) as exc:
            raise VerificationFailed(f"the log of {new.size} does not extend the log of {old.size}: {exc}") from exc

    def download_export(self, target: Path) -> Path:
        """The export bundle (.tar.gz) to ``target``; check it offline with ``trajectledger verify``."""
        request = self.http.build_request("GET", API_PREFIX + "/log/export")
        self._sign(request)
        response = self.http.send(request, stream=True)
        try:
            if response.status_code != 200:
                response.read()
                self._ok(response)
            with Path(target).open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        finally:
            response.close()
        return Path(target)

    # --- reads ------------------------------------------------------------------------------

    def pseudonym(self, bsn: str) -> str:
        """The client_ref of a BSN (sent in a signed request body, never in a URL)."""
        return str(self.post("/pseudonyms", {"bsn": bsn})["client_ref"])

    def receipt(self, envelope_id: str, envelope: Envelope | None = None) -> Receipt:
        """The receipt of an envelope this party submitted, its proof checked (with the
        envelope, when given, its leaf too: the evidence of the verdict)."""
        if envelope is not None and envelope.envelope_id != envelope_id:
            raise ValueError(f"the envelope is {envelope.envelope_id}, not {envelope_id}")
        receipt = self.check_receipt(self.get(f"/receipts/{envelope_id}"), envelope)
        if not isinstance(receipt, Receipt) or receipt.envelope_id != envelope_id:
            raise VerificationFailed(f"the server's receipt for {envelope_id} is not a log proof of that envelope")
        return receipt

    def dossier(self, client_ref: str) -> dict[str, Any]:
        return self.get(f"/dossiers/{client_ref}")

    def trajectories(self, client_ref: str) -> list[dict[str, Any]]:
        return list(self.pages(f"/dossiers/{client_ref}/trajectories"))

    def trajectory(self, client_ref: str, trajectory_id: str) -> dict[str, Any]:
        return self.get(f"/dossiers/{client_ref}/trajectories/{trajectory_id}")

    def claims(self, client_ref: str, status: str | None = None) -> list[dict[str, Any]]:
        if status is None:
            return list(self.pages(f"/dossiers/{client_ref}/claims"))
        return list(self.pages(f"/dossiers/{client_ref}/claims", status=status))

    def benefits(self, client_ref: str) -> list[dict[str, Any]]:
        return list(self.pages(f"/dossiers/{client_ref}/benefits"))

    def flags(self, **params: Any) -> list[dict[str, Any]]:
        """Flagged claims (funders, auditors); params: peildatum, asKnownAt, flag."""
        return list(self.pages("/flags", **params))

    def parties(self) -> list[dict[str, Any]]:
        return list(self.pages("/parties"))

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self._ok(self._send("GET", path, params=params))

    def post(self, path: str, data: Any) -> dict[str, Any]:
        return self._ok(self._send("POST", path, json=data))

    def pages(self, path: str, page_size: int = 500, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list (``limit``/``offset``)."""
        offset = 0
        while True:
            page = self.get(path, **params, limit=page_size, offset=offset)
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    # --- transport ------------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
              signed: bool = True) -> httpx.Response:
        """One request, retried on connection errors, 5xx and 429 (re-signed each time)."""
        for attempt in range(self.attempts):
            request = self.http.build_request(method, API_PREFIX + path, json=json, params=params or None)
            if signed:
                self._sign(request)
            try:
                response = self.http.send(request)
            except httpx.TransportError:
                if attempt + 1 == self.attempts:
                    raise
                self.sleep(self._delay(attempt, None))
                continue
            if response.status_code not in RETRY_STATUSES or attempt + 1 == self.attempts:
                return response
            self.sleep(self._delay(attempt, response.headers.get("Retry-After")))
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None and retry_after.isdigit():
            return min(float(retry_after), 30.0)
        return random.uniform(0, self.backoff * 2**attempt)

    def _sign(self, request: httpx.Request) -> None:
        raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
        now = int(self.clock())
        request.headers.update(signature_headers(
            request.method, raw_path, raw_query, request.read(), self.private_key, now, now + SIGNATURE_LIFETIME))

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise ProblemError(response.status_code, {"detail": "the response is not JSON"}) from exc
        if not isinstance(data, dict):
            raise ProblemError(response.status_code, {"detail": "the response is not a JSON object"})
        return data

    def _ok(self, response: httpx.Response) -> dict[str, Any]:
        data = self._json(response)
        if response.status_code >= 400:
            raise ProblemError(response.status_code, data)
        return data
