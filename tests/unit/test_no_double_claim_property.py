"""Property: no sequence of submissions, decided by the pure rules, leaves two live claims
for one job of one client (fast, many examples; the ledger-level stateful test is slower)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from ledger.domain.dossier import Context, DossierState, decide, evolve
from ledger.domain.errors import Refusal
from tests.support import FUNDERS, PROVIDERS, claim, commission, live_overlaps, payload

REF = "d" * 64
ROLES = {**{f: "funder" for f in FUNDERS}, **{p: "provider" for p in PROVIDERS}}
PARTIES = FUNDERS + PROVIDERS
TRAJECTORIES = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(6)]
CLAIMS = [f"00000000-0000-4000-9000-0000000000{i:02d}" for i in range(30)]
DAY0 = date(2024, 1, 1)

step = st.one_of(
    st.tuples(st.just("commission"), st.sampled_from(PARTIES), st.integers(0, 5), st.sampled_from(PROVIDERS)),
    st.tuples(st.just("claim"), st.sampled_from(PARTIES), st.integers(0, 5), st.integers(0, 29),
              st.sampled_from(["12345678", "87654321"]), st.integers(0, 330), st.one_of(st.none(), st.integers(1, 400))),
    st.tuples(st.sampled_from(["PlacementRejected", "PlacementWithdrawn", "PlacementConfirmed", "EmploymentEnded"]),
              st.sampled_from(PARTIES), st.integers(0, 29), st.integers(0, 330)),
)


def to_payload(s: tuple) -> dict:  # type: ignore[type-arg]
    if s[0] == "commission":
        return commission(REF, s[3], TRAJECTORIES[s[2]], start="2024-01-01", planned_end="2024-12-31")
    if s[0] == "claim":
        _, _, t, c, kvk, start, days = s
        job = DAY0 + timedelta(days=start)
        end = None if days is None else (job + timedelta(days=days)).isoformat()
        return {**claim(REF, TRAJECTORIES[t], kvk=kvk, job_start=job.isoformat(), contract_end=end,
                        application_date=(job - timedelta(days=3)).isoformat()), "claim_id": CLAIMS[c]}
    kind, _, c, day = s
    extra = {"reason": "checked"} if kind == "PlacementRejected" else {}
    if kind == "EmploymentEnded":
        extra = {"end": (DAY0 + timedelta(days=day)).isoformat()}
    return payload(kind, REF, "2025-01-01", claim_id=CLAIMS[c], **extra)


@settings(max_examples=400, deadline=None)
@given(st.lists(step, min_size=1, max_size=40))
def test_no_sequence_leaves_two_live_claims_for_one_job(steps: list) -> None:  # type: ignore[type-arg]
    state = DossierState()
    for s in steps:
        submitter = s[1]
        p = to_payload(s)
        try:
            decide(state, p, Context(submitter, ROLES[submitter], date(2025, 6, 1), ROLES.get))
        except Refusal:
            continue
        evolve(state, p, submitter, "2025-06-01T00:00:00.000000Z")
        assert live_overlaps(state.claims) == [], steps
    event(f"live claims: {min(sum(c['status'] in ('claimed', 'confirmed') for c in state.claims.values()), 3)}")
