"""Verification status per claim and the audit sample with its findings, over HTTP (issue 15)."""

from __future__ import annotations

from typing import Any

from ledger.verify.checkpoints import note_body
from projections.sampling import rank_key
from tests.api.support import AUDITOR, HAARLEM, IDLE_AUDITOR, UWV, WERKFIT, ApiWorld, Story
from tests.support import finding, verified


def get(world: ApiWorld, party: str, path: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = world.signed(party, "GET", path, params=params or None)
    return response.status_code, response.json()


def confirmed_and_verified(world: ApiWorld, story: Story) -> None:
    haarlem = world.client(HAARLEM)
    for envelope in (haarlem.envelope("PlacementConfirmed", "2024-06-10", client_ref=story.client_ref,
                                      claim_id=story.werkfit_claim),):
        assert haarlem.submit(envelope).accepted
    assert world.post_envelope(HAARLEM, verified(story.client_ref, story.werkfit_claim, period_from="2024-06-01",
                                                 period_to="2024-12-31")).status_code in (200, 201)


def test_a_claim_shows_what_wage_data_says_to_funders_and_auditors_not_providers(world: ApiWorld, story: Story) -> None:
    path = f"/dossiers/{story.client_ref}/claims/{story.werkfit_claim}"
    status, claim = get(world, HAARLEM, path)
    assert status == 200 and claim["verification"]["status"] == "unverified"
    confirmed_and_verified(world, story)
    _, claim = get(world, AUDITOR, path)
    assert claim["verification"] == {"status": "verified", "verified_through": "2024-12-31",
                                     "detail": "employment at 12345678 verified 2024-06-01 .. 2024-12-31"}
    _, claim = get(world, WERKFIT, path)
    assert claim["verification"] is None and claim["status"] == "confirmed"


def test_the_sample_with_its_findings(world: ApiWorld, story: Story) -> None:
    confirmed_and_verified(world, story)
    status, checkpoint = get(world, AUDITOR, "/log/checkpoint")
    assert status == 200, checkpoint
    size = checkpoint["tree_size"]
    status, body = get(world, AUDITOR, "/audit-sample", treeSize=size, size=1, minimumPerStratum=1)
    assert status == 200, body
    root = bytes.fromhex(checkpoint["root_hash"])
    assert body["seed"] == root.hex() == note_body(body["checkpoint_note"].encode()).root_hash.hex()
    assert body["population_size"] == 1 and [a["stratum"] for a in body["allocation"]] == [WERKFIT]
    [item] = body["items"]
    assert item["element_id"] == story.werkfit_claim and item["finding"] is None and item["verification"] == "verified"
    assert rank_key(root, WERKFIT, story.werkfit_claim)  # the documented ranking names this stratum and element
    auditor = world.client(AUDITOR)
    assert auditor.submit(auditor.envelope("AuditFinding", "2025-03-01", client_ref=story.client_ref,
                                           claim_id=story.werkfit_claim, outcome="upheld",
                                           reason="wage-data-matches", evidence_sha256="ef" * 32)).accepted
    _, body = get(world, AUDITOR, "/audit-sample", treeSize=size, size=1, minimumPerStratum=1)
    [item] = body["items"]
    assert (item["finding"]["outcome"], item["finding"]["by"]) == ("upheld", AUDITOR)
    assert body["seed"] == root.hex()  # findings recorded since do not move the draw


def test_only_a_mandated_auditor_records_a_finding_and_the_sample_is_scoped(world: ApiWorld, story: Story) -> None:
    confirmed_and_verified(world, story)
    response = world.post_envelope(IDLE_AUDITOR, finding(story.client_ref, story.werkfit_claim))
    body = response.json()
    assert (response.status_code, body["rule"], body["receipt"]["verdict"]) == (403, "role.not-allowed", "refused")
    assert "no audit mandate" in body["detail"]
    _, checkpoint = get(world, HAARLEM, "/log/checkpoint")
    status, body = get(world, UWV, "/audit-sample", treeSize=checkpoint["tree_size"], size=5)
    assert status == 200 and body["population_size"] == 0  # UWV funded none of the confirmed claims
    status, body = get(world, IDLE_AUDITOR, "/audit-sample", treeSize=checkpoint["tree_size"], size=5)
    assert (status, body["rule"]) == (403, "audit.no-mandate")
    status, body = get(world, WERKFIT, "/audit-sample", treeSize=checkpoint["tree_size"], size=5)
    assert status == 403
    status, body = get(world, HAARLEM, "/audit-sample", treeSize=checkpoint["tree_size"] + 1000, size=5)
    assert (status, body["field"]) == (404, "treeSize")
