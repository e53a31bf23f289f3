"""The audit sample's allocation and draw (projections.sampling), and the audit result's
intervals (projections.audit_result): properties, the documented method, and coverage."""

from __future__ import annotations

import hashlib
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.dossier.state import DossierState
from projections.audit_result import at_risk, rates, wilson
from projections.audit_sample import finding_of, latest_findings
from projections.sampling import Element, SampleSizeError, allocate, draw, rank_key

SEED = hashlib.sha256(b"a checkpoint's root").digest()

strata_sizes = st.dictionaries(st.text("abcdefghij-", min_size=1, max_size=6), st.integers(0, 60), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(sizes=strata_sizes, size=st.integers(0, 200), minimum=st.integers(0, 8), seed=st.binary(min_size=32, max_size=32))
def test_each_stratum_gets_its_allocation_and_no_element_twice(sizes: dict[str, int], size: int, minimum: int,
                                                               seed: bytes) -> None:
    population = [Element(f"{s}/{i}", s) for s, n in sizes.items() for i in range(n)]
    if sum(min(minimum, n) for n in sizes.values()) > size and size < len(population):
        with pytest.raises(SampleSizeError):
            draw(seed, population, size, minimum)
        return
    draws = draw(seed, population, size, minimum)
    seats = allocate(sizes, size, minimum)
    chosen = [e for d in draws for e in d.chosen]
    assert len(chosen) == len(set(chosen)) == min(size, len(population))  # no element twice, the size asked
    for d in draws:
        assert d.population == sizes[d.stratum] and len(d.chosen) == d.allocated == seats[d.stratum]
        assert all(e.startswith(d.stratum + "/") for e in d.chosen)  # from its own stratum
        assert min(minimum, d.population) <= d.allocated <= d.population
        if size < len(population):  # proportional within one seat, unless a bound holds it
            quota = Fraction(size * d.population, len(population))
            bounded = d.allocated in (min(minimum, d.population), d.population)
            assert bounded or abs(d.allocated - quota) < 1 + sum(min(minimum, n) for n in sizes.values())


def test_largest_remainder_with_a_minimum_per_stratum() -> None:
    assert allocate({"a": 50, "b": 30, "c": 20}, 10, 2) == {"a": 5, "b": 3, "c": 2}
    assert allocate({"a": 97, "b": 2, "c": 1}, 10, 3) == {"a": 7, "b": 2, "c": 1}  # small strata whole
    assert allocate({"a": 45, "b": 45, "c": 10}, 5, 0) == {"a": 2, "b": 2, "c": 1}  # remainders .25 .25 .5
    assert allocate({"a": 5, "b": 3}, 20, 2) == {"a": 5, "b": 3}  # everything
    with pytest.raises(SampleSizeError) as caught:
        allocate({"a": 5, "b": 5, "c": 5}, 5, 2)
    assert (caught.value.rule, caught.value.field) == ("sample.size", "--size")


def test_the_draw_is_the_documented_sha256_ranking() -> None:
    ids = [f"claim-{i}" for i in range(30)]
    [d] = draw(SEED, [Element(e, "werkfit") for e in ids], 4, 1)
    by_hand = sorted(ids, key=lambda e: hashlib.sha256(SEED + b"werkfit" + b"\x00" + e.encode()).digest())[:4]
    assert list(d.chosen) == by_hand
    assert rank_key(SEED, "werkfit", "claim-1") == hashlib.sha256(SEED + b"werkfit\x00claim-1").digest()
    [other] = draw(hashlib.sha256(b"another root").digest(), [Element(e, "werkfit") for e in ids], 4, 1)
    assert set(other.chosen) != set(d.chosen)


def test_a_seed_is_a_root_hash_and_an_element_is_listed_once() -> None:
    with pytest.raises(SampleSizeError):
        draw(b"short", [Element("x", "a")], 1, 0)
    with pytest.raises(SampleSizeError) as caught:
        draw(SEED, [Element("x", "a"), Element("x", "b")], 1, 0)
    assert caught.value.rule == "sample.population"


def test_wilson_interval_known_values() -> None:
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson(5, 50)
    assert low == pytest.approx(0.04347, abs=1e-4) and high == pytest.approx(0.21357, abs=1e-4)


def test_the_interval_covers_the_true_rate_in_at_least_93_percent_of_1000_audits() -> None:
    """1,000 simulated audits of one population (three strata, 5%, 15% and 30% errors; 770
    claims), each drawn with its own seed: the 95% intervals must cover the true rates."""
    sizes, true_share = {"a": 400, "b": 250, "c": 120}, {"a": 0.05, "b": 0.15, "c": 0.30}
    wrong: set[str] = set()
    population = []
    for s, n in sizes.items():
        for i in range(n):
            population.append(Element(f"{s}-{i:04d}", s))
            if i < round(n * true_share[s]):
                wrong.add(f"{s}-{i:04d}")
    truth = len(wrong) / len(population)
    stratum_truth = {s: round(n * true_share[s]) / n for s, n in sizes.items()}
    covered, stratum_covered = 0, dict.fromkeys(sizes, 0)
    for audit in range(1000):
        draws = draw(hashlib.sha256(b"audit %d" % audit).digest(), population, 60, 10)
        outcomes = {d.stratum: ["not-upheld" if e in wrong else "upheld" for e in d.chosen] for d in draws}
        *per_stratum, overall = rates(sizes, {d.stratum: d.allocated for d in draws}, outcomes)
        assert overall.low is not None and overall.high is not None
        covered += overall.low <= truth <= overall.high
        for r in per_stratum:
            assert r.low is not None and r.high is not None
            stratum_covered[r.stratum] += r.low <= stratum_truth[r.stratum] <= r.high
    assert covered >= 930, covered
    assert min(stratum_covered.values()) >= 930, stratum_covered


def test_amount_at_risk_extrapolates_per_provider_and_never_below_the_sample() -> None:
    population = {"p": 100, "q": 50}
    audited = {"p": [("p", "not-upheld", 1000), ("p", "upheld", 1000), ("p", "upheld", 1000), ("p", "upheld", 1000)],
               "q": [("q", "unverifiable", 500), ("q", "upheld", 500)]}
    rows = {r.provider: r for r in at_risk(population, audited)}
    assert rows["p"].in_sample_cents == 1000 and rows["p"].estimate_cents == 100 * 1000 // 4
    assert rows["q"].estimate_cents == 50 * 500 // 2
    assert rows["(all)"].estimate_cents == rows["p"].estimate_cents + rows["q"].estimate_cents
    for r in rows.values():
        assert r.in_sample_cents <= r.low_cents <= r.estimate_cents <= r.high_cents


def test_a_sampled_trajectory_carries_its_claims_worst_finding() -> None:
    dossier = DossierState(claims={"c1": {"trajectory_id": "t1"}, "c2": {"trajectory_id": "t1"},
                                   "c3": {"trajectory_id": "t2"}},
                           findings={"f1": {"claim_id": "c1", "outcome": "upheld"},
                                     "f2": {"claim_id": "c2", "outcome": "unverifiable"},
                                     "f3": {"claim_id": "c2", "outcome": "not-upheld"},  # later: supersedes f2
                                     "f4": {"claim_id": "c3", "outcome": "upheld"}})
    dossiers = {"ref": dossier}
    found = latest_findings(dossiers)
    assert found["c2"]["outcome"] == "not-upheld"
    row = {"element_id": "t1", "client_ref": "ref", "trajectory_id": "t1"}
    assert finding_of(row, "trajectories", dossiers, found) == {"claim_id": "c2", "outcome": "not-upheld"}
    assert finding_of({**row, "element_id": "c3"}, "claims", dossiers, found) == {"claim_id": "c3", "outcome": "upheld"}
    assert finding_of({**row, "trajectory_id": "t9"}, "trajectories", dossiers, found) is None


def test_unverifiable_findings_count_as_errors_unless_left_out() -> None:
    population, sampled = {"p": 100}, {"p": 4}
    outcomes = {"p": ["not-upheld", "unverifiable", "upheld", "upheld"]}
    [conservative, _] = rates(population, sampled, outcomes)
    [left_out, _] = rates(population, sampled, outcomes, unverifiable_is_error=False)
    assert (conservative.audited, conservative.rate) == (4, 0.5)
    assert (left_out.audited, left_out.rate, left_out.unverifiable) == (3, 1 / 3, 1)
    audited = {"p": [("p", "not-upheld", 100), ("p", "unverifiable", 200), ("p", "upheld", 400), ("p", "upheld", 800)]}
    assert at_risk(population, audited)[0].in_sample_cents == 300
    assert at_risk(population, audited, unverifiable_is_error=False)[0].in_sample_cents == 100
