"""The synthetic history generator: deterministic, privacy-safe, well-formed, signed, and
its intended verdicts agree with the dossier rules (replayed here without a database)."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
from collections import Counter, defaultdict
from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.canonical import canonical_bytes
from ledger.domain.dossier import Context, DossierState, decide, evolve
from ledger.domain.envelope import b64decode, key_id_for, parse_envelope, verify_signature
from ledger.domain.errors import Refusal
from ledger.domain.identity import validate_bsn
from ledger.domain.payloads import validate_payload
from ledger.domain.registry.state import OPERATOR, RegistryState, decide_registry, evolve_registry
from ledger.synthetic import AUDITOR, MUNICIPALITY, PROVIDERS, UWV, History, Item, derive_key, generate
from ledger.synthetic.bsn import draw_bsn
from ledger.synthetic.dates import FIRST_DAY, LAST_DAY, REGISTERED_ON, add_months

OPERATOR_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PSEUDONYM_KEY = b"synthetic-test-pseudonym-key-32b"
RECORDING_DAY = date(2026, 11, 22)  # any day after LAST_DAY: the generator writes only the past


def pseudonymise(bsn: str) -> str:
    return hmac.new(PSEUDONYM_KEY, validate_bsn(bsn).encode("ascii"), hashlib.sha256).hexdigest()


def envelope_bytes(history: History) -> list[bytes]:
    return [canonical_bytes(item.envelope) for item in [*history.registry, *history.submissions]]


@pytest.fixture(scope="module")
def small() -> History:
    return generate(7, 60, OPERATOR_KEY, pseudonymise)


@pytest.fixture(scope="module")
def large() -> tuple[History, list[Item]]:
    history = generate(1, 1000, OPERATOR_KEY, pseudonymise)
    return history, list(history.submissions)


def payloads(items: list[Item]) -> list[dict[str, Any]]:
    return [item.envelope["payload"] for item in items]


# --- determinism -------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_envelopes(small: History) -> None:
    again = generate(7, 60, OPERATOR_KEY, pseudonymise)
    assert envelope_bytes(again) == envelope_bytes(small)
    assert [c.bsn for c in again.clients] == [c.bsn for c in small.clients]


def test_another_seed_gives_another_history(small: History) -> None:
    other = generate(8, 60, OPERATOR_KEY, pseudonymise)
    assert not set(envelope_bytes(other)) & set(envelope_bytes(small))
    assert {c.bsn for c in other.clients}.isdisjoint({c.bsn for c in small.clients})
    assert other.parties[UWV].public_key != small.parties[UWV].public_key


def test_more_clients_keep_the_first_clients_and_parties(small: History) -> None:
    bigger = generate(7, 61, OPERATOR_KEY, pseudonymise)
    assert [c.bsn for c in bigger.clients[:60]] == [c.bsn for c in small.clients]
    assert [i.envelope for i in bigger.registry] == [i.envelope for i in small.registry]


def test_keys_are_derived_from_the_seed_and_the_party() -> None:
    assert derive_key(3, UWV).private_bytes_raw() == derive_key(3, UWV).private_bytes_raw()
    public = {derive_key(3, p).public_key().public_bytes_raw() for p in (UWV, MUNICIPALITY, *PROVIDERS, AUDITOR)}
    assert len(public) == 2 + len(PROVIDERS) + 1
    assert derive_key(4, UWV).public_key().public_bytes_raw() != derive_key(3, UWV).public_key().public_bytes_raw()


# --- parties and registry ----------------------------------------------------------------


def test_parties_and_registry(small: History) -> None:
    roles = Counter(p.role for p in small.parties.values())
    assert roles == {"operator": 1, "funder": 2, "provider": len(PROVIDERS), "auditor": 1}
    assert small.parties[OPERATOR].private_key is OPERATOR_KEY
    state = RegistryState()
    operator_public = OPERATOR_KEY.public_key().public_bytes_raw()
    evolve_registry(state, {"type": "PartyRegistered", "party_id": OPERATOR, "role": "operator",
                            "public_key": small.parties[OPERATOR].public_key})
    for item in small.registry:
        envelope = parse_envelope(item.envelope)
        assert envelope.submitter == OPERATOR
        verify_signature(envelope, operator_public)
        decide_registry(state, envelope.payload, envelope.submitter)  # raises if refused
        evolve_registry(state, envelope.payload)
    assert state.audits(AUDITOR) == [MUNICIPALITY, UWV]
    assert all(item.expected_verdict == "accepted" for item in small.registry)


# --- privacy -------------------------------------------------------------------------------


def test_bsns_are_valid_distinct_and_never_in_an_envelope(large: tuple[History, list[Item]]) -> None:
    history, items = large
    bsns = [c.bsn for c in history.clients]
    assert len(set(bsns)) == len(bsns) == 1000
    for bsn in bsns:
        assert validate_bsn(bsn) == bsn
    text = "\n".join(json.dumps(item.envelope) for item in [*history.registry, *items])
    windows = {run[i:i + 9] for run in re.findall(r"[0-9]{9,}", text) for i in range(len(run) - 8)}
    assert windows and windows.isdisjoint(bsns)  # (KvK numbers are 8 digits: hex digests give the runs)
    assert {p["client_ref"] for p in payloads(items)} == {c.client_ref for c in history.clients}
    assert {c.client_ref for c in history.clients} == {pseudonymise(b) for b in bsns}


@pytest.mark.parametrize("seed", range(20))
def test_drawn_bsns_pass_the_eleven_test(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        bsn = draw_bsn(rng)
        assert validate_bsn(bsn) == bsn != "000000000"
        assert sum(int(d) * w for d, w in zip(bsn, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True)) % 11 == 0


# --- shape and signatures --------------------------------------------------------------


def test_every_payload_is_well_formed(large: tuple[History, list[Item]]) -> None:
    history, items = large
    for item in [*history.registry, *items]:
        payload = parse_envelope(item.envelope).payload
        assert validate_payload(payload) is payload
        assert item.expected_verdict in ("accepted", "refused")
        assert (item.expected_rule is None) == (item.expected_verdict == "accepted")


def test_every_signature_verifies_against_its_submitters_key(small: History) -> None:
    public = {pid: b64decode(p.public_key, "public_key", 32) for pid, p in small.parties.items()}
    submitters: Counter[str] = Counter()
    for item in [*small.registry, *small.submissions]:
        envelope = parse_envelope(item.envelope)
        assert envelope.key_id == key_id_for(public[envelope.submitter])
        verify_signature(envelope, public[envelope.submitter])
        submitters[small.parties[envelope.submitter].role] += 1
    assert set(submitters) == {"operator", "funder", "provider"}


def test_envelope_ids_are_unique(large: tuple[History, list[Item]]) -> None:
    history, items = large
    ids = [i.envelope["payload"]["envelope_id"] for i in [*history.registry, *items]]
    assert len(set(ids)) == len(ids)


def test_submissions_are_in_date_order_within_the_window(large: tuple[History, list[Item]]) -> None:
    _, items = large
    days = [date.fromisoformat(p["occurred_on"]) for p in payloads(items)]
    assert days == sorted(days)
    assert REGISTERED_ON < FIRST_DAY <= days[0] and days[-1] <= LAST_DAY
    for p in payloads(items):
        if p["type"] == "TrajectoryCommissioned":  # commissioned before it starts
            assert p["occurred_on"] <= p["start"] < p["planned_end"]
            continue
        for name in ("start", "end", "job_start", "application_date"):
            if name in p:
                assert p[name] <= p["occurred_on"], (name, p)


def test_submissions_can_be_read_again_and_by_index(small: History) -> None:
    items = list(small.submissions)
    assert len(items) == len(small.submissions)
    assert small.submissions[3] == items[3]
    assert small.submissions[-2:] == items[-2:]
    assert list(small.submissions) == items


# --- the rules agree with the intended verdicts ----------------------------------------


def replay(history: History, items: list[Item]) -> list[tuple[str | None, str | None]]:
    """(expected rule, rule the dossier rules give) for each submission, in order."""
    roles = {pid: p.role for pid, p in history.parties.items()}
    states: dict[str, DossierState] = defaultdict(DossierState)
    result = []
    for item in items:
        payload, submitter = item.envelope["payload"], item.envelope["submitter"]
        state = states[payload["client_ref"]]
        try:
            decide(state, payload, Context(submitter, roles[submitter], RECORDING_DAY, roles.get))
            got = None
            evolve(state, payload, submitter, "2026-11-22T00:00:00.000000Z")
        except Refusal as refusal:
            got = refusal.rule
        result.append((item.expected_rule, got))
    return result


def test_the_dossier_rules_give_the_intended_verdicts(large: tuple[History, list[Item]]) -> None:
    history, items = large
    outcomes = replay(history, items)
    assert [o for o in outcomes if o[0] != o[1]] == []
    rules = Counter(expected for expected, _ in outcomes if expected)
    assert set(rules) == {"claim.unique-job", "dates.outside-trajectory"}


# --- scenarios -------------------------------------------------------------------------


def claims_with_findings(items: list[Item]) -> list[tuple[dict[str, Any], bool]]:
    """Each claim attempt and whether its application predates its trajectory's start,
    computed from the payloads alone."""
    starts = {p["trajectory_id"]: p["start"] for p in payloads(items) if p["type"] == "TrajectoryCommissioned"}
    return [(p, p["application_date"] < starts[p["trajectory_id"]])
            for p in payloads(items) if p["type"] == "PlacementClaimed"]


def test_shares_of_double_claims_and_jobs_found_before_the_trajectory(large: tuple[History, list[Item]]) -> None:
    _, items = large
    claims = claims_with_findings(items)
    rules = {i.envelope["payload"]["envelope_id"]: i.expected_rule for i in items}
    double = sum(rules[p["envelope_id"]] == "claim.unique-job" for p, _ in claims) / len(claims)
    before = sum(found_before for _, found_before in claims) / len(claims)
    assert 0.02 <= double <= 0.06
    assert 0.03 <= before <= 0.08
    tagged = [i for i in items if "job-before-trajectory" in i.tags]
    assert all(i.envelope["payload"]["type"] == "PlacementClaimed" for i in tagged)
    assert len(tagged) == sum(found_before for _, found_before in claims)


def test_each_double_claim_is_a_second_provider_claiming_a_live_claimed_job(large: tuple[History, list[Item]]) -> None:
    _, items = large
    claims: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if item.envelope["payload"]["type"] == "PlacementClaimed":
            claims[item.envelope["payload"]["client_ref"]].append(item)
    doubles = [i for i in items if i.expected_rule == "claim.unique-job"]
    assert doubles
    for double in doubles:
        p = double.envelope["payload"]
        earlier = [i for i in claims[p["client_ref"]] if i.expected_verdict == "accepted"
                   and i.envelope["payload"]["employer_kvk"] == p["employer_kvk"]]
        assert len(earlier) == 1
        assert earlier[0].envelope["submitter"] != double.envelope["submitter"]
        assert earlier[0].envelope["payload"]["occurred_on"] <= p["occurred_on"]


def test_the_anja_case(small: History) -> None:
    """Two funders' trajectories overlap; she applied before either began; the municipal
    provider's claim is accepted, the UWV provider's claim for the same job is refused."""
    (anja,) = [c for c in small.clients if c.scenario == "anja"]
    items = [i for i in small.submissions if i.envelope["payload"]["client_ref"] == anja.client_ref]
    trajectories = {i.envelope["payload"]["trajectory_id"]: (i.envelope["submitter"], i.envelope["payload"])
                    for i in items if i.envelope["payload"]["type"] == "TrajectoryCommissioned"}
    assert sorted(funder for funder, _ in trajectories.values()) == [MUNICIPALITY, UWV]
    first, second = [i for i in items if i.envelope["payload"]["type"] == "PlacementClaimed"]
    assert (first.expected_verdict, second.expected_rule) == ("accepted", "claim.unique-job")
    assert trajectories[first.envelope["payload"]["trajectory_id"]][0] == MUNICIPALITY
    assert trajectories[second.envelope["payload"]["trajectory_id"]][0] == UWV
    for name in ("employer_kvk", "job_start", "application_date"):
        assert first.envelope["payload"][name] == second.envelope["payload"][name]
    application = first.envelope["payload"]["application_date"]
    assert all(application < t["start"] <= first.envelope["payload"]["job_start"] for _, t in trajectories.values())
    assert {"anja", "double-claim", "job-before-trajectory"} <= set(second.tags)


def test_scenario_features_appear(large: tuple[History, list[Item]]) -> None:
    history, items = large
    counts = history.submissions.counts()
    for tag in ("revolving-door", "short-contract", "secondment", "overlapping-funders", "claim-after-release",
                "claim-after-trajectory"):
        assert counts["tag:" + tag] > 0, tag
    for kind in ("TrajectoryExtended", "PlacementWithdrawn", "PlacementRejected", "EmploymentEnded",
                 "AftercareContact", "BenefitEnded"):
        assert counts["type:" + kind] > 0, kind
    reasons = {p["reason"] for p in payloads(items) if p["type"] == "TrajectoryEnded"}
    assert reasons == {"placed", "completed", "voluntarily-stopped", "dropped-out", "sanctioned", "medical",
                       "moved", "deceased"}
    definitions = {p["definition"] for p in payloads(items) if p["type"] == "TrajectoryCommissioned"}
    assert definitions == {"six-month-rule", "ladder-step", "voluntary-stop", "contract-6m", "composite-2009"}
    instruments = {p["instrument"] for p in payloads(items) if p["type"] == "ActivityRecorded"}
    assert instruments == set(range(1, 35))  # the mediation instruments included
    assert counts["type:PlacementClaimed"] == sum(1 for p in payloads(items) if p["type"] == "PlacementClaimed")


def test_short_contracts_and_revolving_door_are_what_their_tags_say(large: tuple[History, list[Item]]) -> None:
    _, items = large
    for item in items:
        p = item.envelope["payload"]
        if p["type"] == "PlacementClaimed":
            start = date.fromisoformat(p["job_start"])
            short = p["contract_end"] is not None and date.fromisoformat(p["contract_end"]) < add_months(start, 6)
            assert short == ("short-contract" in item.tags)
            assert p["secondment_via_provider"] == ("secondment" in item.tags)
    ended: dict[str, list[str]] = defaultdict(list)
    for item in items:
        p = item.envelope["payload"]
        if p["type"] == "TrajectoryEnded":
            ended[p["client_ref"]].append(p["end"])
        if "revolving-door" in item.tags:
            assert p["type"] == "BenefitStarted"
            last_end = date.fromisoformat(max(ended[p["client_ref"]]))
            assert (date.fromisoformat(p["start"]) - last_end).days <= 183


@pytest.mark.parametrize("clients", [0, 1, 3, 7])
def test_tiny_histories(clients: int) -> None:
    history = generate(2, clients, OPERATOR_KEY, pseudonymise)
    assert len(history.clients) == clients
    assert len({c.scenario for c in history.clients}) == clients  # the special cases come first
    assert len(history.registry) == 2 + len(PROVIDERS) + 1 + 2
    outcomes = replay(history, list(history.submissions))
    assert [o for o in outcomes if o[0] != o[1]] == []


def test_negative_client_count_is_refused() -> None:
    with pytest.raises(ValueError):
        generate(1, -1, OPERATOR_KEY, pseudonymise)


def test_an_item_is_plain_json(small: History) -> None:
    item = small.submissions[0]
    assert json.loads(json.dumps(item.envelope)) == item.envelope
