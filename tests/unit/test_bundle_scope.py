"""``ledger.bundle.scope``: given entries in log order, which an auditor's export holds and why
it withholds the others - driven by the fields a payload names, loud on a type it cannot place."""

from __future__ import annotations

from typing import Any

import pytest

from api.access import AUDITOR, Caller
from ledger.bundle import layout
from ledger.bundle.scope import Mandate, Scope, ScopeError
from ledger.domain import payloads
from tests.support import claim, commission, new_id, payload, registry

REF, OTHER_REF = "ab" * 32, "cd" * 32
HAARLEM, UWV, WERKFIT, JOBSTAP = "gemeente-haarlem", "uwv", "werkfit", "jobstap"


def entry(submitter: str, body: dict[str, Any], verdict: str = "accepted") -> dict[str, Any]:
    return {"envelope": {"payload": body, "submitter": submitter, "key_id": "ed25519:0000000000000000",
                         "signature": ""}, "verdict": verdict, "refusal": None,
            "recorded_at": "2024-07-01T10:00:00.000000Z"}


@pytest.fixture
def scope() -> Scope:
    return Scope(Mandate("rekenkamer-haarlem", frozenset({HAARLEM})))


def test_registry_entries_are_always_held(scope: Scope) -> None:
    assert scope.withheld(entry("operator", registry("PartyRegistered", party_id=UWV, role="funder",
                                                     public_key="A" * 43 + "="))) is None
    assert scope.withheld(entry("operator", registry("AuditMandateGranted", party_id="x", funder=UWV))) is None


def test_an_entry_follows_the_funder_of_what_it_names(scope: Scope) -> None:
    ours, theirs = new_id(), new_id()
    assert scope.withheld(entry(HAARLEM, commission(REF, WERKFIT, ours))) is None
    assert scope.withheld(entry(UWV, commission(REF, JOBSTAP, theirs))) == layout.OUTSIDE_MANDATE
    our_claim, their_claim = claim(REF, ours), claim(REF, theirs, kvk="11112222")
    assert scope.withheld(entry(WERKFIT, our_claim)) is None
    assert scope.withheld(entry(JOBSTAP, their_claim)) == layout.OUTSIDE_MANDATE
    confirm = payload("PlacementConfirmed", REF, claim_id=their_claim["claim_id"])
    assert scope.withheld(entry(UWV, confirm)) == layout.OUTSIDE_MANDATE
    assert scope.withheld(entry(HAARLEM, payload("PlacementConfirmed", REF, claim_id=our_claim["claim_id"]))) is None
    contest = payload("PlacementContested", REF, claim_id=our_claim["claim_id"], reason="found-herself")
    assert scope.withheld(entry(UWV, contest)) == layout.OTHER_SUBMITTER  # names UWV, who may not be known
    assert scope.withheld(entry(HAARLEM, payload("BenefitStarted", OTHER_REF, benefit_id=new_id(), benefit="WWB",
                                                 start="2024-01-01"))) is None
    benefit = new_id()
    assert scope.withheld(entry(UWV, payload("BenefitStarted", OTHER_REF, benefit_id=benefit, benefit="WW",
                                             start="2024-01-01"))) == layout.OUTSIDE_MANDATE
    assert scope.withheld(entry(HAARLEM, payload("BenefitEnded", OTHER_REF, benefit_id=benefit, end="2024-02-01"),
                                "refused")) == layout.OUTSIDE_MANDATE


def test_a_refused_entry_naming_nothing_recorded_is_withheld(scope: Scope) -> None:
    stray = payload("ActivityRecorded", REF, trajectory_id=new_id(), instrument=30)
    assert scope.withheld(entry(WERKFIT, stray, "refused")) == layout.UNATTRIBUTED
    refused = commission(REF, WERKFIT)
    assert scope.withheld(entry(HAARLEM, refused, "refused")) is None  # Haarlem's own, refused: audit evidence
    assert scope.withheld(entry(HAARLEM, payload("ActivityRecorded", REF, trajectory_id=refused["trajectory_id"],
                                                 instrument=30), "refused")) == layout.UNATTRIBUTED  # never recorded


def test_the_apis_caller_scopes_an_export_the_same_way() -> None:
    caller, mandate = Caller("rekenkamer-haarlem", AUDITOR, frozenset({HAARLEM})), Mandate("r", frozenset({HAARLEM}))
    by_caller, by_mandate = Scope(caller), Scope(mandate)
    ours, theirs = new_id(), new_id()
    for submitter, body in ((HAARLEM, commission(REF, WERKFIT, ours)), (UWV, commission(REF, JOBSTAP, theirs)),
                            (WERKFIT, claim(REF, ours)), (JOBSTAP, claim(REF, theirs, kvk="11112222"))):
        assert by_caller.withheld(entry(submitter, body)) == by_mandate.withheld(entry(submitter, body))


def test_a_new_event_type_is_placed_by_its_fields_or_refused_loudly(scope: Scope,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ours = new_id()
    scope.withheld(entry(HAARLEM, commission(REF, WERKFIT, ours)))
    monkeypatch.setitem(payloads.DOSSIER_TYPES, "FollowUpCalled", {"trajectory_id": payloads.uuid_text})
    monkeypatch.setitem(payloads.DOSSIER_TYPES, "ClientMoved", {})
    follow_up = payload("FollowUpCalled", REF, trajectory_id=ours)
    assert scope.withheld(entry(WERKFIT, follow_up, "refused")) is None
    with pytest.raises(ScopeError) as refused:
        scope.withheld(entry(HAARLEM, payload("ClientMoved", REF), "refused"))
    assert refused.value.field == "payload.type"
    with pytest.raises(ScopeError):
        scope.withheld(entry(HAARLEM, payload("NeverDefined", REF, trajectory_id=ours)))


def test_evidence_findings_and_follow_ups_follow_whose_they_are(scope: Scope) -> None:
    ours = new_id()
    scope.withheld(entry(HAARLEM, commission(REF, WERKFIT, ours, follow_up_by=JOBSTAP)))
    our_claim = claim(REF, ours)
    scope.withheld(entry(WERKFIT, our_claim))
    evidence: dict[str, Any] = dict(employer_kvk="12345678", period_from="2024-06-01", period_to="2024-09-30", hours_per_week=32,
                    wage_cents=None, source="polis", evidence_sha256="ab" * 32)
    assert scope.withheld(entry(HAARLEM, payload("EmploymentVerified", REF, claim_id=None, **evidence))) is None
    assert scope.withheld(entry(UWV, payload("EmploymentVerified", REF, claim_id=None, **evidence))) \
        == layout.OUTSIDE_MANDATE  # UWV's own fact about the client
    assert scope.withheld(entry(UWV, payload("EmploymentVerified", REF, claim_id=our_claim["claim_id"], **evidence))) \
        == layout.OTHER_SUBMITTER
    finding = dict(claim_id=our_claim["claim_id"], outcome="upheld", reason="checked", evidence_sha256="cd" * 32)
    assert scope.withheld(entry("rekenkamer-haarlem", payload("AuditFinding", REF, **finding))) is None  # its own
    assert scope.withheld(entry("rekenkamer-ander", payload("AuditFinding", REF, **finding))) == layout.OTHER_SUBMITTER
    follow_up = payload("FollowUpRecorded", REF, trajectory_id=ours, moment="6-months", status="employed",
                        found_without="no", satisfaction=4)
    assert scope.withheld(entry(JOBSTAP, follow_up, "refused")) is None  # the provider named to follow up
