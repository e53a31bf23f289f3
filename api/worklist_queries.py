"""Reads across dossiers for a party's work list (the dashboard's queue, payments, drill-down),
scoped to the caller as every read is (``api.access``):

* ``claims``: placement claims in every dossier the caller may see, in client and claim order,
  with their flags for the roles that see flags; filters by status, provider and flag;
* ``claim_counts``: how many of those claims per status, without listing them;
* ``payments``: what is owed per contract and start year, under the contract's definition and
  the definitions asked for (``projections.payments``, the CLI's ``payments`` split by year);
* ``dossier_entries``: the entries of one client's dossier the caller may see, in log order, each
  as recorded (envelope, verdict, refusal, recorded_at) with its log index, so the caller can
  recompute its leaf and check its inclusion proof against a signed checkpoint.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from api import views
from api.access import Caller
from api.errors import NotVisible
from api.kept import KeptClaim
from api.queries import Reader, _needs_mandate
from ledger.domain.dossier.state import DossierState
from ledger.domain.entry import now_utc, recording_date
from projections.payments import payments

CLAIM_STATUSES = ("claimed", "confirmed", "rejected", "withdrawn")


def claims(reader: Reader, caller: Caller, status: str | None, provider: str | None,
           flags: Sequence[str]) -> list[dict[str, Any]]:
    """Claims the caller may see; with ``flags``, only claims carrying one of them (flag-seeing roles).
    From the claims the reader keeps (``api.kept``): only dossiers changed since are read again."""
    def visible(every: Iterable[KeptClaim]) -> list[dict[str, Any]]:
        found = []
        for kept in every:
            claim = kept.claim
            if status not in (None, claim["status"]) or provider not in (None, claim["provider"]) \
                    or not caller.sees(claim["funder"], claim["provider"]):
                continue
            found_flags = [views.flag_view(caller, f.name, f.detail) for f in kept.flags] if caller.sees_flags else None
            if flags and not any(f["name"] in flags for f in found_flags or []):
                continue
            found.append(_claim(kept.client_ref, kept.claim_id, claim, found_flags))
        return found

    return reader.kept.claims((caller, status, provider, tuple(flags)), visible)


def claim_counts(reader: Reader, caller: Caller) -> dict[str, Any]:
    """How many claims of each status the caller may see (``claims(status=...)["total"]`` of each),
    counted as the claims are kept, without listing them."""
    found = reader.kept.claim_counts(caller.sees)
    return {"items": [{"status": status, "claims": found[status]} for status in CLAIM_STATUSES]}


def _claim(client_ref: str, claim_id: str, claim: dict[str, Any], flags: list[dict[str, str]] | None) -> dict[str, Any]:
    return {"client_ref": client_ref, "claim_id": claim_id, "trajectory_id": claim["trajectory_id"],
            "funder": claim["funder"], "provider": claim["provider"], "employer_kvk": claim["employer_kvk"],
            "application_date": claim["application_date"], "job_start": claim["job_start"],
            "contract_end": claim.get("contract_end"), "hours_per_week": claim["hours_per_week"],
            "status": claim["status"], "claimed_on": claim["claimed_on"], "flags": flags}


def payments_by_year(reader: Reader, caller: Caller, names: Sequence[str], peildatum: date | None) -> dict[str, Any]:
    """Owed per funder, provider, contract, its definition and start year (cents), and what it
    would be under each definition in ``names`` (default: every installed one)."""
    _needs_mandate(caller)
    registry = reader.definitions
    measured = peildatum or recording_date(now_utc())
    chosen = registry.resolve(list(names) or registry.names())
    with reader.kept.replay(chosen, measured) as kept:
        results = kept.replay(caller.sees).results
    shared = reader.kept.shares()
    by_year: dict[int, list[Any]] = defaultdict(list)
    for result in results:
        by_year[result.cohort].append(result)
    rows = []
    for year in sorted(by_year):
        for row in payments(by_year[year], [d.name for d in chosen], shared):
            if not caller.sees(row.funder, row.provider):
                continue  # a cooperation partner's share under a funder the caller may not see
            rows.append({"year": year, "funder": row.funder, "provider": row.provider, "contract": row.contract,
                         "definition": row.definition, "trajectories": row.trajectories, "owed_cents": row.owed_cents,
                         "pending_cents": row.pending_cents, "unjudged": row.unjudged,
                         "owed_if": [{"definition": n, "owed_cents": c} for n, c in row.owed_if.items()]})
    return {"peildatum": measured, "definitions": [d.name for d in chosen], "rows": rows}


def dossier_entries(reader: Reader, caller: Caller, client_ref: str) -> list[dict[str, Any]]:
    """The dossier's entries the caller may see, in log order (404 when it may see none)."""
    ledger = reader.ledger
    try:
        state = DossierState(**ledger.dossier(client_ref).data)
    except AggregateNotFoundError as exc:
        raise NotVisible("no such dossier that you may see", field="clientRef") from exc
    visible = [{"log_index": index, **body} for index, body in ledger.dossier_entries(client_ref)
               if _sees_entry(caller, state, body)]
    if not visible:
        raise NotVisible("no such dossier that you may see", field="clientRef")
    return visible


def _sees_entry(caller: Caller, state: DossierState, body: dict[str, Any]) -> bool:
    """An entry about a trajectory, claim or benefit the caller may see, or one it submitted."""
    envelope = body["envelope"]
    payload = envelope["payload"]
    if caller.sees_all or envelope["submitter"] == caller.party_id:
        return True
    trajectory = state.trajectories.get(str(payload.get("trajectory_id")))
    if trajectory is not None:
        return caller.sees(trajectory["funder"], trajectory["provider"])
    claim = state.claims.get(str(payload.get("claim_id")))
    if claim is not None:
        return caller.sees(claim["funder"], claim["provider"])
    benefit = state.benefits.get(str(payload.get("benefit_id")))
    return benefit is not None and caller.sees_benefit(benefit["funder"])

