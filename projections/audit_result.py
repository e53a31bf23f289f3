"""The error rate of an audit sample and the amount at risk, with 95% intervals (pure, stdlib math).

An audited element is an error when its finding is ``not-upheld``, and by default also when it is
``unverifiable`` (a claim the auditor could not verify is not accepted as paid for: the
conservative choice, as in payment-by-results validation); with ``unverifiable_is_error=False``
unverifiable elements are left out of the rate and the amount instead, like elements without a
finding (not yet audited).

* Per stratum: ``p_h = e_h / n_h`` over the audited, with the Wilson score interval
  (Wilson 1927) at ``z = 1.959964``.
* Overall: the stratified estimator ``p = sum W_h p_h`` with ``W_h = N_h / N`` (strata with an
  audited element), its variance ``v = sum W_h^2 (1 - n_h/N_h) p_h (1 - p_h) / (n_h - 1)``
  (``/ n_h`` where ``n_h = 1``), and the Wilson interval computed with the effective sample size
  ``n_eff = p (1 - p) / v`` (the total audited when ``v = 0``): Wilson with a design effect
  (Kish 1965; recommended for complex samples by Dean & Pagano 2015).
* Amount at risk per provider (and in all): ``y_i`` = the payment of audited element ``i``
  (its trajectory's success fee) if it is an error for that provider, else 0. The sample's sum is
  what is known to be at risk; the population estimate is ``T = sum N_h * mean_h(y)`` with
  ``var(T) = sum N_h^2 (1 - n_h/N_h) s_h^2 / n_h`` and the normal interval ``T -/+ z sqrt(var)``,
  its lower end never below the sample's own sum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054
NOT_UPHELD, UNVERIFIABLE = "not-upheld", "unverifiable"
ALL = "(all)"


def method(unverifiable_is_error: bool = True) -> str:
    error = "not-upheld or unverifiable" if unverifiable_is_error else "not-upheld (unverifiable left out)"
    return (f"error = {error}; per stratum Wilson score 95%; overall stratified estimator "
            "sum(N_h/N p_h) with a Wilson 95% interval at the effective sample size p(1-p)/var; amount at risk "
            "sum(N_h mean_h) with a normal 95% interval, not below the sample's sum")


def _counted(outcomes: Sequence[str], unverifiable_is_error: bool) -> list[bool]:
    """Error or not, per outcome that counts."""
    return [o == NOT_UPHELD or o == UNVERIFIABLE for o in outcomes
            if unverifiable_is_error or o != UNVERIFIABLE]


@dataclass(frozen=True)
class Rate:
    stratum: str
    population: int
    sampled: int
    audited: int
    upheld: int
    not_upheld: int
    unverifiable: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class AtRisk:
    provider: str
    in_sample_cents: int
    estimate_cents: int
    low_cents: int
    high_cents: int


def wilson(errors: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for ``errors`` of ``n`` (``n`` may be an effective, fractional size)."""
    if n <= 0:
        return 0.0, 1.0
    p = errors / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _variance_of_mean(values: Sequence[float], population: int) -> float:
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    s2 = sum((v - mean) ** 2 for v in values) / (n - 1)
    return (1 - n / population) * s2 / n if population else 0.0


def rates(population: Mapping[str, int], sampled: Mapping[str, int],
          outcomes: Mapping[str, Sequence[str]], unverifiable_is_error: bool = True) -> list[Rate]:
    """One ``Rate`` per stratum (in the order given), then the overall one (``ALL``)."""
    rows: list[Rate] = []
    weighted, variance, audited_total, total_n = 0.0, 0.0, 0, 0
    counted = {s: _counted(outcomes.get(s, ()), unverifiable_is_error) for s in population}
    audited_population = sum(population[s] for s in population if counted[s])
    for stratum, size in population.items():
        found = outcomes.get(stratum, ())
        n = len(counted[stratum])
        errors = sum(counted[stratum])
        p = errors / n if n else None
        low, high = wilson(errors, n) if n else (None, None)
        rows.append(Rate(stratum, size, sampled.get(stratum, 0), n, found.count("upheld"), found.count("not-upheld"),
                         found.count("unverifiable"), p, low, high))
        if n and p is not None:
            w = size / audited_population
            weighted += w * p
            f = n / size if size else 1.0
            variance += w * w * (1 - f) * p * (1 - p) / (n - 1 if n > 1 else 1)
            audited_total += n
        total_n += sampled.get(stratum, 0)
    if audited_total:
        n_eff = weighted * (1 - weighted) / variance if variance > 0 else float(audited_total)
        low, high = wilson(weighted * n_eff, n_eff)
        overall = Rate(ALL, sum(population.values()), total_n, audited_total,
                       sum(r.upheld for r in rows), sum(r.not_upheld for r in rows),
                       sum(r.unverifiable for r in rows), weighted, low, high)
    else:
        overall = Rate(ALL, sum(population.values()), total_n, 0, 0, 0, 0, None, None, None)
    return rows + [overall]


def at_risk(population: Mapping[str, int], audited: Mapping[str, Sequence[tuple[str, str, int]]],
            unverifiable_is_error: bool = True) -> list[AtRisk]:
    """Per provider (sorted), then in all: ``audited[stratum]`` = (provider, outcome, payment) per audited element."""
    if not unverifiable_is_error:
        audited = {s: [item for item in items if item[1] != UNVERIFIABLE] for s, items in audited.items()}
    providers = sorted({p for items in audited.values() for p, _, _ in items})
    result = []
    for provider in [*providers, ALL]:
        in_sample, estimate, variance = 0, 0.0, 0.0
        for stratum, items in audited.items():
            if not items:
                continue
            y = [float(pay) if outcome in (NOT_UPHELD, UNVERIFIABLE) and (provider == ALL or p == provider) else 0.0
                 for p, outcome, pay in items]
            in_sample += int(sum(y))
            size = population[stratum]
            estimate += size * sum(y) / len(y)
            variance += size * size * _variance_of_mean(y, size)
        half = Z95 * math.sqrt(variance)
        result.append(AtRisk(provider, in_sample, round(estimate), max(in_sample, math.floor(estimate - half)),
                             math.ceil(estimate + half)))
    return result
