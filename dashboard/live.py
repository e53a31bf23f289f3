"""The live source: every read a signed API call as the dashboard's party (RFC 9421, by the SDK),
every action an envelope signed with its key and submitted, its receipt verified by the SDK.

The server scopes each read to the party, so the pages show exactly what that party may see;
a read its role may not make (a provider's outflow rates) is ``NotAvailable``. Inclusion
proofs: the newest checkpoint is fetched and its operator signature checked by the SDK, each
entry's leaf is recomputed from the entry as served, and its RFC 9162 proof checked to that root.
"""

from __future__ import annotations

from typing import Any

from dashboard.sources import (
    CLAIM_STATUSES,
    ActionRefused,
    DashboardError,
    Health,
    NotAvailable,
    ProofCheck,
    Who,
    signed_time,
)
from ledger.domain.entry import leaf_bytes
from ledger.domain.merkle import MerkleError, verify_inclusion
from ledger.domain.merkle.hashing import leaf_hash
from sdk.client import ClientError, LedgerClient, ProblemError


class KeyNotTheParty(DashboardError):
    rule = "dashboard.key"


ACTIONS = {"confirm": "PlacementConfirmed", "reject": "PlacementRejected", "contest": "PlacementContested"}
PAGE = 500


class LiveSource:
    def __init__(self, client: LedgerClient, url: str) -> None:
        self.client = client
        party = self._get(f"/parties/{client.party_id}")
        live = {k["key_id"] for k in party["keys"] if not k["revoked"]}
        if client.key_id not in live:  # the server acts as the key's holder: it must be this party's
            raise KeyNotTheParty(f"the key {client.key_id} is not a live key of {client.party_id}", field="key")
        self.who = Who("live", client.party_id, str(party["role"]), url)

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        try:
            return self.client.get(path, **params)
        except ProblemError as exc:
            if exc.status in (403, 404):  # a role's read it may not make; out of scope is absent
                raise NotAvailable(exc.detail or "not for you to read", field=exc.field) from exc
            raise

    def _all(self, path: str, **params: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Every page of a list; the first page's other fields, and all items."""
        first = self._get(path, **params, limit=PAGE, offset=0)
        items = list(first["items"])
        while len(items) < first["total"]:
            items.extend(self._get(path, **params, limit=PAGE, offset=len(items))["items"])
        return first, items

    def version(self) -> int:
        """The newest stored checkpoint's size: the operator signs one every so many entries or
        seconds, so a busy log does not empty the cache on every page (an action empties it)."""
        stored = int(self.client.get("/log/checkpoints", limit=1)["total"])
        if stored == 0:
            return 0
        return int(self.client.get("/log/checkpoints", limit=1, offset=stored - 1)["items"][0]["tree_size"])

    def health(self) -> Health:
        checkpoint, _ = self.client.checkpoint()  # its signature checked against the operator key
        return Health(int(self.client.get("/health")["log_size"]), checkpoint.size, checkpoint.root_hash.hex(),
                      signed_time(checkpoint))

    def rates(self, group_by: str) -> dict[str, Any]:
        first, items = self._all("/outflow-rates", groupBy=group_by)
        return {**first, "items": items}

    def claims(self, status: str | None = None) -> list[dict[str, Any]]:
        return self._all("/claims", **({} if status is None else {"status": status}))[1]

    def claim_counts(self) -> dict[str, int]:
        """One read: the API counts them as it keeps them (nothing is listed)."""
        found = {item["status"]: int(item["claims"]) for item in self._get("/claims/counts")["items"]}
        return {status: found.get(status, 0) for status in CLAIM_STATUSES}

    def flags(self) -> list[dict[str, Any]]:
        return self._all("/flags")[1]

    def payments(self) -> dict[str, Any]:
        first, items = self._all("/payments")
        return {**first, "items": items}

    def entries(self, client_ref: str) -> list[dict[str, Any]]:
        return self._all(f"/dossiers/{client_ref}/entries")[1]

    def prove(self, entries: list[dict[str, Any]]) -> list[ProofCheck]:
        checkpoint, _ = self.client.checkpoint()
        checks = []
        for entry in entries:
            index = int(entry["log_index"])
            body = {k: entry[k] for k in ("envelope", "verdict", "refusal", "recorded_at")}
            try:
                proof = self.client.get("/log/inclusion-proof", logIndex=index, treeSize=checkpoint.size)["proof"]
                verify_inclusion(index, checkpoint.size, leaf_hash(leaf_bytes(body, index)),
                                 [bytes.fromhex(h) for h in proof], checkpoint.root_hash)
            except (MerkleError, ValueError, ClientError) as exc:
                checks.append(ProofCheck(index, False, checkpoint.size, str(exc)))
                continue
            checks.append(ProofCheck(index, True, checkpoint.size, checkpoint.root_hash.hex()))
        return checks

    def act(self, action: str, client_ref: str, claim_id: str, reason: str | None) -> dict[str, Any]:
        kind = ACTIONS.get(action)
        if kind is None:
            raise ActionRefused(f"no such action {action!r}: one of {', '.join(ACTIONS)}", rule="dashboard.action",
                                field="action")
        fields: dict[str, Any] = {"client_ref": client_ref, "claim_id": claim_id}
        if kind != "PlacementConfirmed":
            fields["reason"] = reason or ""
        try:
            receipt = self.client.submit(self.client.envelope(kind, **fields))
        except ProblemError as exc:
            raise ActionRefused(exc.detail, rule=exc.rule or None, field=exc.field) from exc
        except ClientError as exc:
            raise ActionRefused(str(exc), rule="receipt.verify") from exc
        done = {"envelope_id": receipt.envelope_id, "type": kind, "verdict": receipt.verdict, "refusal": receipt.refusal,
                "recorded_at": receipt.recorded_at, "log_index": receipt.log_index, "leaf_hash": receipt.leaf_hash,
                "tree_size": receipt.tree_size, "checkpoint": receipt.checkpoint.decode("utf-8")}
        if not receipt.accepted:
            refusal = receipt.refusal or {}
            raise ActionRefused(str(refusal.get("detail", "refused")), rule=str(refusal.get("rule") or "dashboard.refused"),
                                field=refusal.get("field"), receipt=done)
        return done

    def checklist(self) -> list[tuple[int, str, str]] | None:
        return None
