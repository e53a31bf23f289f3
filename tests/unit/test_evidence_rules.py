"""Given a dossier, when evidence of employment or an audit finding, then accepted or this typed refusal.

Only a funder of the client submits evidence; only an auditor mandated for the claim's funder
records a finding; neither changes the claim's status."""

from datetime import date
from typing import Any

import pytest

from ledger.aggregates import Dossier
from ledger.domain.dossier import Context, DossierState, decide, evolve
from ledger.domain.errors import Refusal
from tests.support import claim, commission, finding, new_id, not_found, payload, verified

REF = "c" * 64
TODAY = date(2025, 6, 1)
ROLES = {"gemeente-haarlem": "funder", "uwv": "funder", "werkfit": "provider", "rekenkamer": "auditor",
         "rekenkamer-uwv": "auditor"}
MANDATES = {"rekenkamer": ["gemeente-haarlem"], "rekenkamer-uwv": ["uwv"]}


def ctx(submitter: str) -> Context:
    return Context(submitter, ROLES.get(submitter, ""), TODAY, ROLES.get, audits_of=lambda p: MANDATES.get(p, []))


def given(*facts: tuple[str, dict[str, Any]]) -> DossierState:
    state = DossierState()
    for submitter, p in facts:
        decide(state, p, ctx(submitter))
        evolve(state, p, submitter, "2025-06-01T00:00:00.000000Z")
    return state


def refused(state: DossierState, submitter: str, p: dict[str, Any]) -> Refusal:
    with pytest.raises(Refusal) as err:
        decide(state, p, ctx(submitter))
    return err.value


T1 = new_id()
CLAIMED = claim(REF, T1, job_start="2024-06-01", application_date="2024-05-01")
C1 = CLAIMED["claim_id"]
BASE = (("gemeente-haarlem", commission(REF, "werkfit", T1, start="2024-01-01", planned_end="2024-12-31")),
        ("werkfit", CLAIMED),
        ("gemeente-haarlem", payload("PlacementConfirmed", REF, "2024-06-15", claim_id=C1)))


def test_the_funder_of_the_client_submits_evidence_and_the_claim_is_unchanged() -> None:
    state = given(*BASE)
    evidence = verified(REF, C1)
    decide(state, evidence, ctx("gemeente-haarlem"))
    evolve(state, evidence, "gemeente-haarlem", "2025-01-02T00:00:00.000000Z")
    assert state.claims[C1]["status"] == "confirmed"
    [record] = state.evidence.values()
    assert (record["kind"], record["claim_id"], record["by"], record["hours_per_week"]) == ("verified", C1, "gemeente-haarlem", 32)
    decide(state, not_found(REF, None, kvk="87654321"), ctx("gemeente-haarlem"))  # by employer, no claim named


@pytest.mark.parametrize("submitter", ["werkfit", "uwv", "rekenkamer", "stranger"])
def test_nobody_but_a_funder_of_the_client_submits_evidence(submitter: str) -> None:
    state = given(*BASE)  # uwv is a funder, but not of this client
    for evidence in (verified(REF, C1), not_found(REF, C1)):
        err = refused(state, submitter, evidence)
        assert (err.rule, err.field) == ("role.not-allowed", "submitter")


def test_a_funder_of_the_client_through_another_trajectory_may_verify() -> None:
    state = given(*BASE, ("uwv", commission(REF, "werkfit", new_id(), start="2024-02-01", planned_end="2024-11-30")))
    decide(state, verified(REF, C1), ctx("uwv"))


def test_evidence_names_a_known_claim_a_past_period_in_order_and_hours_or_wage() -> None:
    state = given(*BASE)
    assert refused(state, "gemeente-haarlem", verified(REF, new_id())).rule == "reference.unknown"
    assert refused(state, "gemeente-haarlem", verified(REF, C1, period_from="2024-07-01",
                                                       period_to="2024-06-30")).rule == "dates.end-after-start"
    future = refused(state, "gemeente-haarlem", verified(REF, C1, period_to="2025-07-01", occurred_on="2025-06-01"))
    assert (future.rule, future.field) == ("dates.not-future", "payload.period_to")
    neither = refused(state, "gemeente-haarlem", verified(REF, C1, hours_per_week=None, wage_cents=None))
    assert (neither.rule, neither.field) == ("evidence.hours-or-wage", "payload.hours_per_week")
    decide(state, verified(REF, C1, hours_per_week=None, wage_cents=1_250_000), ctx("gemeente-haarlem"))


def test_only_an_auditor_mandated_for_the_claims_funder_records_a_finding() -> None:
    state = given(*BASE)
    for submitter in ("gemeente-haarlem", "werkfit"):
        assert refused(state, submitter, finding(REF, C1)).rule == "role.not-allowed"
    unmandated = refused(state, "rekenkamer-uwv", finding(REF, C1))
    assert (unmandated.rule, unmandated.field) == ("role.not-allowed", "submitter") and "mandate" in str(unmandated)
    assert refused(state, "rekenkamer", finding(REF, new_id())).rule == "reference.unknown"
    p = finding(REF, C1, "not-upheld", "no-income-relationship")
    decide(state, p, ctx("rekenkamer"))
    evolve(state, p, "rekenkamer", "2025-03-01T10:00:00.000000Z")
    assert state.claims[C1]["status"] == "confirmed"  # beside the claim, never rewriting it
    [record] = state.findings.values()
    assert (record["claim_id"], record["outcome"], record["by"]) == (C1, "not-upheld", "rekenkamer")


def test_a_dossier_stored_before_wage_data_existed_keeps_what_is_added_after() -> None:
    """A snapshot taken before this version holds no 'evidence' or 'findings': the aggregate adds
    them on first use, so what is evolved afterwards is kept in its data (and its next snapshot)."""
    dossier = Dossier(REF)
    for later in ("evidence", "findings"):
        del dossier.data[later]  # as restored from an old snapshot
    evolve(dossier.state, commission(REF, "werkfit", T1), "gemeente-haarlem", "2025-01-01T00:00:00.000000Z")
    evolve(dossier.state, CLAIMED, "werkfit", "2025-01-01T00:00:00.000000Z")
    evolve(dossier.state, verified(REF, C1), "gemeente-haarlem", "2025-01-02T00:00:00.000000Z")
    evolve(dossier.state, finding(REF, C1), "rekenkamer", "2025-03-01T00:00:00.000000Z")
    assert len(dossier.data["evidence"]) == 1 and len(dossier.data["findings"]) == 1
