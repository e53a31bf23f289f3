"""The read side the routes call: one method per read, each scoped to the caller.

Dossier views come from the dossier aggregate (the source of truth, never a projection);
flags and outflow rates across dossiers from ``projections`` (read models caught up first,
or the entry sequence folded when ``as_known_at`` is given). Anything outside the caller's
scope raises ``NotVisible``; a role that may not use a read at all, ``Forbidden``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Sequence

from eventsourcing.application import AggregateNotFoundError

from api import views
from api.access import AUDITOR, Caller
from api.errors import AuthenticationFailed, Forbidden, NotVisible
from api.exports import Archive, export_archive
from api.kept import KeptReads
from ledger.application import Ledger
from ledger.domain.entry import now_utc, recording_date
from ledger.domain.envelope import b64encode, key_id_for, public_key_bytes
from ledger.domain.errors import InvalidSubmission
from ledger.domain.registry.state import RegistryState
from ledger.infra.lookup_quota import count_lookup
from ledger.infra.transparency.service import SignedCheckpoint
from projections.definitions.base import Definition
from projections.definitions.registry import DefinitionRegistry
from projections.history import known_at_day
from projections.replay import FlaggedClaim, Replay, flag_listing, load_dossiers, replay_ledger


class Reader:
    def __init__(self, ledger: Ledger, definitions: DefinitionRegistry) -> None:
        self.ledger = ledger
        self.definitions = definitions
        self.kept = KeptReads(ledger, definitions)  # everything recorded: kept, only changed dossiers judged again

    # --- the registry: who is calling ------------------------------------------------

    def registry_state(self) -> RegistryState:
        """The registry as stored now (not the ledger's cached copy, which another
        process's revocation would not reach)."""
        return self.ledger.current_registry()

    def key_holder(self, key_id: str) -> tuple[Caller, bytes]:
        """The party holding a live key with this id, and the key; fails closed."""
        registry = self.registry_state()
        holders = [party_id for party_id, party in registry.parties.items() if key_id in party["keys"]]
        if len(holders) != 1:
            raise AuthenticationFailed("no registered party holds this key" if not holders else
                                       "more than one party holds this key id", rule="key.unknown", field="keyid")
        party_id = holders[0]
        try:
            public_key = registry.signing_key(party_id, key_id)
        except InvalidSubmission as exc:  # RevokedKey: the party holds the key, so it is not unknown
            raise AuthenticationFailed("this key was revoked", rule="key.revoked", field="keyid") from exc
        role = registry.role_of(party_id) or ""
        return Caller(party_id, role, frozenset(registry.audits(party_id))), public_key

    def parties(self) -> list[dict[str, Any]]:
        return [_party(party_id, party) for party_id, party in sorted(self.registry_state().parties.items())]

    def party(self, party_id: str) -> dict[str, Any]:
        party = self.registry_state().parties.get(party_id)
        if party is None:
            raise NotVisible(f"no registered party {party_id!r}", field="partyId")
        return _party(party_id, party)

    # --- the ledger ---------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "log_size": self.ledger.log_size()}

    def ledger_key(self) -> dict[str, Any]:
        public = public_key_bytes(self.ledger.settings.operator_key)
        return {"key_id": key_id_for(public), "public_key": b64encode(public), "algorithm": "ed25519",
                "log_origin": self.ledger.settings.log_origin,
                "checkpoint_verifier_key": self.ledger.transparency.verifier_key}

    def pseudonym(self, caller: Caller, bsn: str, per_hour: int) -> dict[str, str]:
        """Counted against the caller's hourly lookups before the BSN is even looked at."""
        count_lookup(self.ledger.engine, caller.party_id, per_hour)
        return {"client_ref": self.ledger.pseudonym(bsn)}

    def receipt(self, caller: Caller, envelope_id: str) -> dict[str, Any]:
        """A receipt, for the envelope's submitter (and the operator)."""
        receipt = self.ledger.receipt(envelope_id)
        if receipt is not None and not caller.sees_all:
            entry = self.ledger.entries(receipt.log_index, 1)
            if not entry or entry[0][1]["envelope"]["submitter"] != caller.party_id:
                receipt = None
        if receipt is None:
            raise NotVisible("no receipt for this envelope id that you submitted", field="envelopeId")
        return receipt.as_dict()

    # --- the transparency log ------------------------------------------------------------

    def checkpoint(self) -> dict[str, Any]:
        return _checkpoint(self.ledger.checkpoint())

    def checkpoints(self, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        page, total = self.ledger.transparency.checkpoint_page(offset, limit)
        return [_checkpoint(c) for c in page], total

    def inclusion_proof(self, log_index: int, tree_size: int) -> dict[str, Any]:
        log = self.ledger.transparency
        proof = log.inclusion_proof(log_index, tree_size)
        leaf = next(iter(log.leaf_hashes(log_index, log_index + 1)))
        return {"log_index": log_index, "tree_size": tree_size, "leaf_hash": leaf.hex(), "proof": [p.hex() for p in proof]}

    def consistency_proof(self, old_size: int, tree_size: int) -> dict[str, Any]:
        proof = self.ledger.transparency.consistency_proof(old_size, tree_size)
        return {"old_size": old_size, "tree_size": tree_size, "proof": [p.hex() for p in proof]}

    def export(self, caller: Caller) -> Archive:
        """The whole log for the operator; for an auditor, scoped to its mandate (the entries
        of the funders it audits and the registry in full, every other entry as its leaf hash)."""
        _needs_mandate(caller)
        return export_archive(self.ledger, None if caller.sees_all else caller.party_id)

    # --- one client's dossier --------------------------------------------------------------

    def _data(self, client_ref: str) -> dict[str, Any]:
        try:
            return self.ledger.dossier(client_ref).data
        except AggregateNotFoundError as exc:
            raise _not_visible("dossier", "clientRef") from exc

    def dossier(self, caller: Caller, client_ref: str) -> dict[str, Any]:
        found = views.summary(caller, client_ref, self._data(client_ref))
        if found is None:
            raise _not_visible("dossier", "clientRef")
        return found

    def trajectories(self, caller: Caller, client_ref: str) -> list[dict[str, Any]]:
        return self._visible_list(caller, client_ref, views.trajectories(caller, self._data(client_ref)))

    def trajectory(self, caller: Caller, client_ref: str, trajectory_id: str) -> dict[str, Any]:
        return _one(views.trajectories(caller, self._data(client_ref)), "trajectory_id", trajectory_id, "trajectoryId")

    def claims(self, caller: Caller, client_ref: str, status: str | None) -> list[dict[str, Any]]:
        data = self._data(client_ref)
        return self._visible_list(caller, client_ref, views.claims(caller, data, status), data)

    def claim(self, caller: Caller, client_ref: str, claim_id: str) -> dict[str, Any]:
        return _one(views.claims(caller, self._data(client_ref)), "claim_id", claim_id, "claimId")

    def benefits(self, caller: Caller, client_ref: str) -> list[dict[str, Any]]:
        data = self._data(client_ref)
        return self._visible_list(caller, client_ref, views.benefits(caller, data), data)

    def _visible_list(self, caller: Caller, client_ref: str, items: list[dict[str, Any]],
                      data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """A list within a dossier the caller can see at all (else 404, like the dossier)."""
        if not items and views.summary(caller, client_ref, data if data is not None else self._data(client_ref)) is None:
            raise _not_visible("dossier", "clientRef")
        return items

    # --- across dossiers: projections -------------------------------------------------------

    def flags(self, caller: Caller, peildatum: date | None, as_known_at: str | None,
              only: Sequence[str]) -> list[dict[str, Any]]:
        _needs_mandate(caller)
        if as_known_at is None:  # kept, and the answer too while nothing new is recorded (paging)
            return self.kept.flags(peildatum, (caller, tuple(only)), lambda kept: _flag_items(
                caller, [f for f in kept if not only or f.flag in only]))
        return _flag_items(caller, flag_listing(load_dossiers(self.ledger, self.ledger.engine, as_known_at),
                                                peildatum, only))

    def outflow_rates(self, caller: Caller, names: Sequence[str], peildatum: date | None, as_known_at: str | None,
                      group_by: str) -> dict[str, Any]:
        """Peildatum by default: the as-known-at day, else today (in the Netherlands). Everything
        recorded: added up from the kept counts; a cut-off: the entries up to it folded."""
        _needs_mandate(caller)
        chosen, measured = self._chosen(names, peildatum, as_known_at)
        if as_known_at is None:
            with self.kept.replay(chosen, measured) as kept:
                found, differences = kept.rates(group_by, caller.sees), kept.differences_total(caller.sees)
            replayed = Replay(tuple(chosen), measured, None, [])
        else:
            replayed = self._replay(caller, names, peildatum, as_known_at)
            found, differences = replayed.rates(group_by), len(replayed.differences())
        rows = [row.as_dict() for row in found]
        return {**_replayed(replayed), "group_by": group_by, "differences_total": differences, "rows": rows}

    def outflow_differences(self, caller: Caller, names: Sequence[str], peildatum: date | None,
                            as_known_at: str | None) -> dict[str, Any]:
        """The trajectories the definitions judge differently (``Replay.differences``, as the CLI's replay
        lists them, in the same order), scoped as the rates are."""
        _needs_mandate(caller)
        chosen, measured = self._chosen(names, peildatum, as_known_at)
        if as_known_at is None:  # kept, and the answer too while nothing new is recorded (paging)
            with self.kept.replay(chosen, measured) as kept:
                at, scoped = kept.at, kept.replay(caller.sees)
            return dict(self.kept.answer(at, ("differences", caller, tuple(d.label for d in chosen), measured),
                                         lambda: _differences(caller, scoped)))  # a copy: the route takes its rows
        return _differences(caller, self._replay(caller, names, peildatum, as_known_at))

    def _chosen(self, names: Sequence[str], peildatum: date | None,
                as_known_at: str | None) -> tuple[list[Definition], date]:
        if peildatum is None:
            peildatum = known_at_day(as_known_at) if as_known_at else recording_date(now_utc())
        return self.definitions.resolve(names or self.definitions.names()), peildatum

    def _replay(self, caller: Caller, names: Sequence[str], peildatum: date | None, as_known_at: str | None) -> Replay:
        """The caller's trajectories judged: kept (everything recorded), or folded up to the cut-off."""
        _needs_mandate(caller)
        chosen, measured = self._chosen(names, peildatum, as_known_at)
        if as_known_at is None:
            with self.kept.replay(chosen, measured) as kept:
                return kept.replay(caller.sees)
        full = replay_ledger(self.ledger, self.ledger.engine, chosen, measured, as_known_at, self.definitions)
        return Replay(full.definitions, full.peildatum, full.as_known_at,
                      [r for r in full.results if caller.sees(r.funder, r.provider)])


def _differences(caller: Caller, scoped: Replay) -> dict[str, Any]:
    return {**_replayed(scoped), "rows": [views.judged_differently(caller, r, scoped.names)
                                          for r in scoped.differences()]}


def _flag_items(caller: Caller, listing: Sequence[FlaggedClaim]) -> list[dict[str, Any]]:
    return [{"claim_id": f.claim_id, "trajectory_id": f.trajectory_id, "client_ref": f.client_ref,
             "funder": f.funder, "provider": f.provider, "employer_kvk": f.employer_kvk, "job_start": f.job_start,
             "status": f.status, "flag": views.flag_view(caller, f.flag, f.detail)}
            for f in listing if caller.sees(f.funder, f.provider)]


def _replayed(replay: Replay) -> dict[str, Any]:
    return {"peildatum": replay.peildatum, "as_known_at": replay.as_known_at,
            "definitions": [{"name": d.name, "version": d.version, "summary": d.summary} for d in replay.definitions]}


def _needs_mandate(caller: Caller) -> None:
    if caller.role == AUDITOR and not caller.audits:
        raise Forbidden("this auditor has no audit mandate for any funder", rule="audit.no-mandate")


def _not_visible(what: str, field: str) -> NotVisible:
    return NotVisible(f"no such {what} that you may see", field=field)


def _one(items: list[dict[str, Any]], key: str, value: str, field: str) -> dict[str, Any]:
    for item in items:
        if item[key] == value:
            return item
    raise _not_visible(key.removesuffix("_id"), field)


def _checkpoint(signed: SignedCheckpoint) -> dict[str, Any]:
    return {"tree_size": signed.tree_size, "root_hash": signed.root_hash.hex(), "note": signed.note.decode("utf-8"),
            "created_at": signed.created_at}


def _party(party_id: str, party: dict[str, Any]) -> dict[str, Any]:
    keys = [{"key_id": kid, "public_key": k["public_key"], "revoked": k["revoked"]} for kid, k in party["keys"].items()]
    return {"party_id": party_id, "role": party["role"], "keys": keys, "audits": list(party.get("audits", []))}
