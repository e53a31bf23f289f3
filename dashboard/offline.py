"""The bundle source: an audit office's dashboard on a verified export, offline and read-only.

Built inside ``open_verified`` (the verifier's whole checklist has passed): the dossiers are
folded from the bundle's entries and judged under every installed definition once, as the CLI's
reports on a bundle do; each held line of ``entries.jsonl`` keeps its leaf hash (a withheld line
gives its own), so a drill-down recomputes the leaf of each entry it shows from the line as read
again and checks its RFC 9162 inclusion proof against the bundle's newest signed checkpoint.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from dashboard.proofs import PerfectLevels
from dashboard.sources import CLAIM_STATUSES, Health, ProofCheck, ReadOnly, Who, signed_time
from ledger.bundle import layout
from ledger.bundle.source import VerifiedBundle
from ledger.domain.checkpoint import open_checkpoint
from ledger.domain.dossier.state import DossierState
from ledger.domain.entry import leaf_bytes
from ledger.domain.merkle import MerkleError, verify_inclusion
from ledger.domain.merkle.hashing import leaf_hash
from ledger.verify import STEPS
from projections.definitions.registry import DefinitionRegistry
from projections.flags import claim_flags
from projections.indicators.cooperation import shares
from projections.payments import payments
from projections.replay import Replay, flag_listing, load_dossiers, replay


class BundleSource:
    def __init__(self, bundle: VerifiedBundle, directory: Path, where: str, registry: DefinitionRegistry,
                 peildatum: date) -> None:
        verified = bundle.verified
        self.who = Who("bundle", None, "auditor", where, f"verified {verified.tree_size} entries of {verified.origin}, "
                       f"{verified.checkpoints} checkpoints, {verified.signatures} signatures; trusted by: {verified.anchor}")
        self.verified = verified
        self.entries_path = directory / layout.ENTRIES
        note = (directory / layout.CHECKPOINT).read_bytes()
        self.checkpoint = open_checkpoint(note, list(verified.operator_keys))  # checked again: the root proofs lead to
        self.dossiers: list[tuple[str, DossierState]] = list(load_dossiers(bundle.entries, None, None))
        chosen = registry.resolve(registry.names())
        self.replayed: Replay = replay(self.dossiers, chosen, peildatum, None, registry)
        self.peildatum = peildatum
        leaves, self.offsets = self._index()
        self.levels = PerfectLevels(leaves)

    def _index(self) -> tuple[list[bytes], dict[str, list[tuple[int, int]]]]:
        """Every line's leaf hash, and per client_ref the (log_index, byte offset) of its held lines."""
        leaves: list[bytes] = []
        offsets: dict[str, list[tuple[int, int]]] = defaultdict(list)
        with self.entries_path.open("rb") as lines:
            position = 0
            for line in lines:
                text = line.rstrip(b"\n")
                if text.startswith(layout.HELD_LINE):
                    leaves.append(leaf_hash(text))
                    client_ref = json.loads(text)["envelope"]["payload"].get("client_ref")
                    if client_ref is not None:
                        offsets[client_ref].append((len(leaves) - 1, position))
                else:
                    leaves.append(bytes.fromhex(json.loads(text)["leaf_hash"]))
                position += len(line)
        return leaves, offsets

    def version(self) -> int:
        return self.verified.tree_size

    def health(self) -> Health:
        return Health(self.verified.tree_size, self.checkpoint.size, self.checkpoint.root_hash.hex(),
                      signed_time(self.checkpoint))

    def rates(self, group_by: str) -> dict[str, Any]:
        items = [row.as_dict() for row in self.replayed.rates(group_by)]
        return {"peildatum": self.peildatum, "group_by": group_by,
                "definitions": [{"name": d.name, "version": d.version, "summary": d.summary}
                                for d in self.replayed.definitions], "items": items}

    def claims(self, status: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self._claims() if status in (None, c["status"])]

    def claim_counts(self) -> dict[str, int]:
        found = Counter(c["status"] for c in self._claims())
        return {status: found[status] for status in CLAIM_STATUSES}

    def _claims(self) -> list[dict[str, Any]]:
        found = []
        for client_ref, dossier in self.dossiers:
            for claim_id, claim in dossier.claims.items():
                flags = [{"name": f.name, "detail": f.detail} for f in claim_flags(dossier, claim_id)]
                found.append({"client_ref": client_ref, "claim_id": claim_id, "trajectory_id": claim["trajectory_id"],
                              "funder": claim["funder"], "provider": claim["provider"],
                              "employer_kvk": claim["employer_kvk"], "application_date": claim["application_date"],
                              "job_start": claim["job_start"], "contract_end": claim.get("contract_end"),
                              "hours_per_week": claim["hours_per_week"], "status": claim["status"],
                              "claimed_on": claim["claimed_on"], "flags": flags})
        return found

    def flags(self) -> list[dict[str, Any]]:
        return [{"claim_id": f.claim_id, "trajectory_id": f.trajectory_id, "client_ref": f.client_ref,
                 "funder": f.funder, "provider": f.provider, "employer_kvk": f.employer_kvk, "job_start": f.job_start,
                 "status": f.status, "flag": {"name": f.flag, "detail": f.detail}}
                for f in flag_listing(self.dossiers, None)]

    def payments(self) -> dict[str, Any]:
        names = self.replayed.names
        shared = shares(self.dossiers)
        by_year: dict[int, list[Any]] = defaultdict(list)
        for result in self.replayed.results:
            by_year[result.cohort].append(result)
        rows = [{"year": year, "funder": row.funder, "provider": row.provider, "contract": row.contract,
                 "definition": row.definition, "trajectories": row.trajectories, "owed_cents": row.owed_cents,
                 "pending_cents": row.pending_cents, "unjudged": row.unjudged,
                 "owed_if": [{"definition": n, "owed_cents": c} for n, c in row.owed_if.items()]}
                for year in sorted(by_year) for row in payments(by_year[year], names, shared)]
        return {"peildatum": self.peildatum, "definitions": names, "items": rows}

    def entries(self, client_ref: str) -> list[dict[str, Any]]:
        found = []
        with self.entries_path.open("rb") as lines:
            for index, offset in self.offsets.get(client_ref, []):
                lines.seek(offset)
                body = json.loads(lines.readline())
                body["log_index"] = index
                found.append(body)
        return found

    def prove(self, entries: list[dict[str, Any]]) -> list[ProofCheck]:
        checkpoint, checks = self.checkpoint, []
        for entry in entries:
            index = int(entry["log_index"])
            body = {k: entry[k] for k in ("envelope", "verdict", "refusal", "recorded_at")}
            try:
                verify_inclusion(index, checkpoint.size, leaf_hash(leaf_bytes(body, index)),
                                 self.levels.inclusion_proof(index, checkpoint.size), checkpoint.root_hash)
            except (MerkleError, ValueError) as exc:
                checks.append(ProofCheck(index, False, checkpoint.size, str(exc)))
                continue
            checks.append(ProofCheck(index, True, checkpoint.size, checkpoint.root_hash.hex()))
        return checks

    def act(self, action: str, client_ref: str, claim_id: str, reason: str | None) -> dict[str, Any]:
        raise ReadOnly("a dashboard on an export bundle reads only; confirm, reject or contest on the live ledger",
                       field="action")

    def checklist(self) -> list[tuple[int, str, str]] | None:
        against = self.verified.against
        steps = [(n, STEPS[n], "ok") for n in range(1, 8)]
        steps.append((8, STEPS[8], f"ok (extends {against})" if against is not None else "skipped (no --against)"))
        return steps
