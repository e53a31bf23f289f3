"""Rules versions: a claim for a job that starts later is refused under rules 1 and accepted
under rules 2 up to ``JOB_START_LIMIT_DAYS`` after the claim date; ``RulesAdopted`` only moves
forward, only to a known version, only by the operator."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from ledger.domain.dossier import Context, DossierState, decide, evolve
from ledger.domain.dossier.versions import JOB_START_LIMIT_DAYS, LATEST_RULES
from ledger.domain.errors import Refusal
from ledger.domain.registry.state import OPERATOR, RegistryState, decide_registry, evolve_registry
from tests.support import claim, commission

TODAY = date(2026, 12, 4)
ROLES = {"gemeente-haarlem": "funder", "werkfit": "provider"}
REF = "ab" * 32


def dossier() -> tuple[DossierState, str]:
    state = DossierState()
    commissioned = commission(REF, start="2026-06-01", planned_end="2027-12-31")
    evolve(state, commissioned, "gemeente-haarlem", "2026-06-01T10:00:00.000000Z")
    return state, commissioned["trajectory_id"]


def claim_starting(days: int, trajectory_id: str) -> dict[str, Any]:
    start = TODAY + timedelta(days=days)
    return claim(REF, trajectory_id, job_start=start.isoformat(), application_date="2026-11-20", occurred_on=TODAY.isoformat())


def refusal(state: DossierState, payload: dict[str, Any], rules: int) -> tuple[str | None, str | None] | None:
    try:
        decide(state, payload, Context("werkfit", "provider", TODAY, ROLES.get, rules))
    except Refusal as exc:
        return exc.rule, exc.field
    return None


@pytest.mark.parametrize("days, rules_1, rules_2", [
    (0, None, None),
    (1, ("dates.not-future", "payload.job_start"), None),
    (30, ("dates.not-future", "payload.job_start"), None),
    (JOB_START_LIMIT_DAYS, ("dates.not-future", "payload.job_start"), None),
    (JOB_START_LIMIT_DAYS + 1, ("dates.not-future", "payload.job_start"), ("dates.job-start-too-far", "payload.job_start")),
])
def test_the_job_start_limit_by_rules_version(days: int, rules_1: tuple[str, str] | None, rules_2: tuple[str, str] | None) -> None:
    state, trajectory_id = dossier()
    payload = claim_starting(days, trajectory_id)
    assert refusal(state, payload, 1) == rules_1
    assert refusal(state, payload, 2) == rules_2


def test_the_limit_counts_from_the_claim_date_not_from_today() -> None:
    state, trajectory_id = dossier()
    payload = claim_starting(JOB_START_LIMIT_DAYS, trajectory_id)
    payload["occurred_on"] = (TODAY - timedelta(days=1)).isoformat()  # claimed yesterday: one day too far
    assert refusal(state, payload, 2) == ("dates.job-start-too-far", "payload.job_start")


def registry_with_operator() -> RegistryState:
    state = RegistryState()
    evolve_registry(state, {"type": "PartyRegistered", "party_id": OPERATOR, "role": "operator", "public_key": "A" * 43 + "="})
    evolve_registry(state, {"type": "PartyRegistered", "party_id": "werkfit", "role": "provider", "public_key": "B" * 43 + "="})
    return state


def adopt(version: int, party_id: str = OPERATOR) -> dict[str, Any]:
    return {"type": "RulesAdopted", "party_id": party_id, "rules_version": version}


def test_rules_adopted_moves_forward_only_to_a_known_version() -> None:
    state = registry_with_operator()
    assert state.rules == 1
    for payload, rule in [(adopt(1), "rules.not-newer"), (adopt(LATEST_RULES + 1), "rules.unknown-version"),
                          (adopt(2, "werkfit"), "role.not-allowed")]:
        with pytest.raises(Refusal) as refused:
            decide_registry(state, payload, OPERATOR)
        assert refused.value.rule == rule
    with pytest.raises(Refusal) as refused:
        decide_registry(state, adopt(2), "werkfit")  # only the operator maintains the registry
    assert refused.value.rule == "role.not-allowed"
    decide_registry(state, adopt(2), OPERATOR)
    evolve_registry(state, adopt(2))
    assert state.rules == 2
    with pytest.raises(Refusal) as refused:
        decide_registry(state, adopt(2), OPERATOR)
    assert refused.value.rule == "rules.not-newer"
