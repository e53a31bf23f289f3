"""The work-list reads across dossiers (``GET /v1/claims``, ``/v1/payments``,
``/v1/dossiers/{clientRef}/entries``), scoped to the caller like every read."""

from __future__ import annotations

from typing import Any

from ledger.domain.entry import leaf_bytes
from ledger.domain.merkle import verify_inclusion
from ledger.domain.merkle.hashing import leaf_hash
from tests.api.support import AUDITOR, HAARLEM, IDLE_AUDITOR, JOBSTAP, UWV, WERKFIT, ApiWorld, Story


def get(world: ApiWorld, party: str, path: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = world.signed(party, "GET", path, params=params or None)
    return response.status_code, response.json()


def test_claims_across_dossiers_are_the_callers_own(world: ApiWorld, story: Story) -> None:
    status, haarlem = get(world, HAARLEM, "/claims")
    assert status == 200 and [c["claim_id"] for c in haarlem["items"]] == [story.werkfit_claim]
    assert [f["name"] for f in haarlem["items"][0]["flags"]] == ["overlapping-trajectories"]
    assert get(world, UWV, "/claims")[1]["total"] == 0  # jobstap's claim was refused: never a claim
    status, werkfit = get(world, WERKFIT, "/claims", status="claimed")
    assert status == 200 and werkfit["total"] == 1 and werkfit["items"][0]["flags"] is None  # no flags for providers
    assert get(world, JOBSTAP, "/claims")[1]["total"] == 0
    assert get(world, HAARLEM, "/claims", status="confirmed")[1]["total"] == 0
    assert get(world, HAARLEM, "/claims", provider=JOBSTAP)[1]["total"] == 0
    assert get(world, HAARLEM, "/claims", flag="revolving-door")[1]["total"] == 0
    assert get(world, HAARLEM, "/claims", flag="overlapping-trajectories")[1]["total"] == 1
    status, problem = get(world, HAARLEM, "/claims", flag="no-such-flag")
    assert status == 400


def test_payments_per_start_year_are_scoped(world: ApiWorld, story: Story) -> None:
    status, body = get(world, HAARLEM, "/payments", peildatum="2025-06-01", definition="six-month-rule")
    assert status == 200 and body["definitions"] == ["six-month-rule"]
    assert [(r["year"], r["funder"], r["provider"], r["trajectories"]) for r in body["items"]] == [(2024, HAARLEM, WERKFIT, 1)]
    assert body["items"][0]["owed_if"][0]["definition"] == "six-month-rule"
    assert get(world, WERKFIT, "/payments")[0] == 403
    assert get(world, IDLE_AUDITOR, "/payments")[0] == 403
    assert [r["funder"] for r in get(world, AUDITOR, "/payments")[1]["items"]] == [HAARLEM]


def test_a_dossiers_entries_are_those_the_caller_may_see_and_prove(world: ApiWorld, story: Story) -> None:
    status, haarlem = get(world, HAARLEM, f"/dossiers/{story.client_ref}/entries")
    assert status == 200
    types = [e["envelope"]["payload"]["type"] for e in haarlem["items"]]
    assert types == ["TrajectoryCommissioned", "ActivityRecorded", "PlacementClaimed", "BenefitStarted"]
    indexes = [e["log_index"] for e in haarlem["items"]]
    assert indexes == sorted(indexes)
    status, jobstap = get(world, JOBSTAP, f"/dossiers/{story.client_ref}/entries")
    assert [(e["envelope"]["payload"]["type"], e["verdict"]) for e in jobstap["items"]] == [
        ("TrajectoryCommissioned", "accepted"), ("PlacementClaimed", "refused")]  # its own refusal, not werkfit's claim
    assert get(world, "baanbrug", f"/dossiers/{story.client_ref}/entries")[0] == 404
    assert get(world, HAARLEM, "/dossiers/" + "0" * 64 + "/entries")[0] == 404
    # each entry as served is a leaf of the signed log
    client = world.client(HAARLEM)
    checkpoint, _ = client.checkpoint()
    for entry in haarlem["items"]:
        body = {k: entry[k] for k in ("envelope", "verdict", "refusal", "recorded_at")}
        proof = client.get("/log/inclusion-proof", logIndex=entry["log_index"], treeSize=checkpoint.size)["proof"]
        verify_inclusion(entry["log_index"], checkpoint.size, leaf_hash(leaf_bytes(body, entry["log_index"])),
                         [bytes.fromhex(h) for h in proof], checkpoint.root_hash)
