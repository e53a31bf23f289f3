"""Reads are scoped to the caller: each role sees its own and nothing else (404, or 403 for a
role that may not use an operation at all)."""

from __future__ import annotations

from typing import Any

import pytest

from sdk.client import ProblemError
from tests.api.support import AUDITOR, BAANBRUG, HAARLEM, IDLE_AUDITOR, JOBSTAP, UWV, WERKFIT, ApiWorld, Story


def get(world: ApiWorld, party: str, path: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = world.signed(party, "GET", path, params=params or None)
    assert response.headers["api-version"] == "1.0.0"
    return response.status_code, response.json()


def ids(page: dict[str, Any], key: str) -> set[str]:
    return {item[key] for item in page["items"]}


def test_a_provider_sees_its_own_trajectory_and_claim_without_flags(world: ApiWorld, story: Story) -> None:
    werkfit = world.client(WERKFIT)
    assert [t["trajectory_id"] for t in werkfit.trajectories(story.client_ref)] == [story.haarlem_trajectory]
    trajectory = werkfit.trajectory(story.client_ref, story.haarlem_trajectory)
    assert trajectory["provider"] == WERKFIT and trajectory["activities"] == [{"instrument": 29, "on": "2024-03-01"}]
    claims = werkfit.claims(story.client_ref)
    assert [c["claim_id"] for c in claims] == [story.werkfit_claim]
    assert claims[0]["flags"] is None
    assert werkfit.dossier(story.client_ref) == {"client_ref": story.client_ref, "trajectories": 1, "claims": 1,
                                                 "benefits": 0}


def test_a_provider_cannot_read_another_providers_trajectory_or_claim(world: ApiWorld, story: Story) -> None:
    ref = story.client_ref
    status, body = get(world, JOBSTAP, f"/dossiers/{ref}/trajectories/{story.haarlem_trajectory}")
    assert status == 404 and body["rule"] == "resource.not-found"
    status, body = get(world, JOBSTAP, f"/dossiers/{ref}/claims/{story.werkfit_claim}")
    assert status == 404  # the id from its refused double claim does not open the claim
    status, page = get(world, JOBSTAP, f"/dossiers/{ref}/trajectories")
    assert status == 200 and ids(page, "trajectory_id") == {story.uwv_trajectory}
    status, page = get(world, JOBSTAP, f"/dossiers/{ref}/claims")
    assert status == 200 and page["items"] == []  # its own claim was refused: never in the dossier
    status, body = get(world, BAANBRUG, f"/dossiers/{ref}")  # no trajectory for this client at all
    assert status == 404 and WERKFIT not in str(body)


def test_a_funder_sees_what_it_funded_with_flags_and_benefits(world: ApiWorld, story: Story) -> None:
    haarlem = world.client(HAARLEM)
    claims = haarlem.claims(story.client_ref)
    assert [c["claim_id"] for c in claims] == [story.werkfit_claim]
    assert "overlapping-trajectories" in {f["name"] for f in claims[0]["flags"]}
    overlap = [f for f in claims[0]["flags"] if f["name"] == "overlapping-trajectories"]
    assert overlap and UWV not in overlap[0]["detail"] and JOBSTAP not in overlap[0]["detail"]
    assert [b["benefit_id"] for b in haarlem.benefits(story.client_ref)] == [story.benefit]


def test_a_funder_cannot_read_another_funders_claims_or_benefits(world: ApiWorld, story: Story) -> None:
    ref = story.client_ref
    status, page = get(world, UWV, f"/dossiers/{ref}/claims")
    assert status == 200 and page["items"] == []
    status, _ = get(world, UWV, f"/dossiers/{ref}/claims/{story.werkfit_claim}")
    assert status == 404
    status, page = get(world, UWV, f"/dossiers/{ref}/benefits")
    assert status == 200 and page["items"] == []
    status, page = get(world, UWV, f"/dossiers/{ref}/trajectories")
    assert ids(page, "trajectory_id") == {story.uwv_trajectory}


def test_an_auditor_sees_only_the_funders_it_audits(world: ApiWorld, story: Story) -> None:
    ref = story.client_ref
    status, page = get(world, AUDITOR, f"/dossiers/{ref}/trajectories")
    assert status == 200 and ids(page, "trajectory_id") == {story.haarlem_trajectory}
    status, page = get(world, AUDITOR, f"/dossiers/{ref}/claims")
    assert ids(page, "claim_id") == {story.werkfit_claim} and page["items"][0]["flags"] is not None
    status, _ = get(world, AUDITOR, f"/dossiers/{ref}/trajectories/{story.uwv_trajectory}")
    assert status == 404


def test_an_auditor_without_a_mandate_sees_nothing(world: ApiWorld, story: Story) -> None:
    ref = story.client_ref
    assert get(world, IDLE_AUDITOR, f"/dossiers/{ref}")[0] == 404
    assert get(world, IDLE_AUDITOR, f"/dossiers/{ref}/claims")[0] == 404
    status, body = get(world, IDLE_AUDITOR, "/flags")
    assert status == 403 and body["rule"] == "audit.no-mandate"
    assert get(world, IDLE_AUDITOR, "/outflow-rates")[0] == 403


def test_the_operator_sees_every_trajectory_and_the_unredacted_flags(world: ApiWorld, story: Story) -> None:
    operator = world.client("operator")
    assert {t["trajectory_id"] for t in operator.trajectories(story.client_ref)} == {
        story.haarlem_trajectory, story.uwv_trajectory}
    flags = operator.claims(story.client_ref)[0]["flags"]
    overlap = [f for f in flags if f["name"] == "overlapping-trajectories"]
    assert overlap and UWV in overlap[0]["detail"]


def test_a_contest_names_its_party_only_to_the_operator_or_the_contester(world: ApiWorld, story: Story) -> None:
    uwv = world.client(UWV)
    contest = uwv.envelope("PlacementContested", "2024-06-03", client_ref=story.client_ref,
                           claim_id=story.werkfit_claim, reason="found-the-job-herself")
    assert uwv.submit(contest).accepted
    seen = {party: world.client(party).claims(story.client_ref)[0]["contests"] for party in (HAARLEM, WERKFIT, AUDITOR,
                                                                                            "operator")}
    assert seen[HAARLEM] == seen[WERKFIT] == seen[AUDITOR] == [
        {"by": "another party", "reason": "found-the-job-herself", "on": "2024-06-03"}]
    assert seen["operator"][0]["by"] == UWV


@pytest.mark.parametrize("party, path", [
    (WERKFIT, "/dossiers/{ref}/benefits"),
    (WERKFIT, "/flags"),
    (JOBSTAP, "/outflow-rates"),
])
def test_roles_that_may_not_use_an_operation_get_403(world: ApiWorld, story: Story, party: str, path: str) -> None:
    status, body = get(world, party, path.format(ref=story.client_ref))
    assert status == 403 and body["rule"] == "role.forbidden"


def test_an_auditor_may_not_look_up_pseudonyms_and_the_bsn_is_not_echoed(world: ApiWorld) -> None:
    with pytest.raises(ProblemError) as refused:
        world.client(AUDITOR).pseudonym("111222333")
    assert refused.value.status == 403
    response = world.signed(WERKFIT, "POST", "/pseudonyms", json={"bsn": "123456789"})  # fails the 11-test
    assert response.status_code == 400 and response.json()["rule"] == "bsn.eleven-test"
    assert "123456789" not in response.text
    shape = world.signed(WERKFIT, "POST", "/pseudonyms", json={"bsn": "12345678x"})
    assert shape.status_code == 400 and "12345678x" not in shape.text


def test_a_pseudonym_is_the_ledgers_and_never_cached(world: ApiWorld) -> None:
    response = world.signed(WERKFIT, "POST", "/pseudonyms", json={"bsn": "111222333"})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert response.json()["client_ref"] == world.app.state.ledger.pseudonym("111222333")


def test_receipts_are_for_their_submitter(world: ApiWorld, story: Story) -> None:
    envelope_id = story.refused.json()["receipt"]["envelope_id"]
    status, receipt = get(world, JOBSTAP, f"/receipts/{envelope_id}")
    assert status == 200 and receipt["verdict"] == "refused"
    assert get(world, WERKFIT, f"/receipts/{envelope_id}")[0] == 404
    assert get(world, "operator", f"/receipts/{envelope_id}")[0] == 200
    assert world.client(JOBSTAP).receipt(envelope_id).refusal["conflicting_claim"] == story.werkfit_claim  # type: ignore[index]


def test_parties_are_listed_for_any_signed_caller(world: ApiWorld) -> None:
    status, party = get(world, IDLE_AUDITOR, f"/parties/{AUDITOR}")
    assert status == 200 and party["role"] == "auditor" and party["audits"] == [HAARLEM]
    assert get(world, IDLE_AUDITOR, "/parties/nobody-here")[0] == 404
    status, page = get(world, WERKFIT, "/parties", limit=3, offset=6)
    assert status == 200 and (page["limit"], page["offset"], page["total"], len(page["items"])) == (3, 6, 8, 2)
