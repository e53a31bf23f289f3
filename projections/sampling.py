"""Audit samples nobody can predict or rig (pure): stratified, seeded by a signed checkpoint.

The seed is the root hash of a checkpoint the auditor names: fixed by the log before anyone
knew which root it would be, and public afterwards, so anyone can redraw the sample and no
one could steer it. The method (``DRAW_METHOD``), precise enough to reproduce in any tool:

1. Population: every element (a claim or a trajectory) with its stratum (a provider, a
   funder, or a contract type). Strata and elements are compared as UTF-8 byte strings.
2. Allocation of ``size`` elements over the strata (``allocate``): everything when ``size``
   is at least the population; otherwise each stratum's bounds are
   ``low = min(minimum, N_h)`` and ``high = N_h``, and, over the strata not yet fixed,
   ``quota_h = (size - fixed seats) * N_h / (their population)`` as an exact fraction. Strata
   whose quota is below ``low`` are fixed at ``low``, then (once none is) those above ``high``
   at ``high``, and the quotas recomputed, until every quota is within bounds. Each free
   stratum then gets ``floor(quota_h)``, and the seats left go one each to the largest
   remainders (Hamilton's largest-remainder method), ties to the stratum first in byte order.
3. Draw: in each stratum, rank the elements by
   ``SHA-256(seed || UTF-8(stratum) || 0x00 || UTF-8(element id))`` as 32-byte big-endian
   numbers, lowest first, and take the first ``n_h``. The seed is the checkpoint's 32-byte
   root hash (raw bytes, not hex).

For example, in Python: ``sorted(ids, key=lambda e: sha256(root + s.encode() + b"\\0" +
e.encode()).digest())[:n]``. No random number generator is used, so the sample does not
depend on a library's or a platform's one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from projections.errors import ProjectionError

DRAW_METHOD = "sha256-rank/1"
DRAW_METHOD_TEXT = ("rank each stratum's elements by SHA-256(seed || stratum || 0x00 || element id), lowest first, "
                    "take the first n_h; n_h proportional to stratum size with a minimum per stratum, "
                    "largest remainder")


class SampleSizeError(ProjectionError):
    """The sample cannot be drawn as asked (size below the minimum the strata need, negative numbers)."""

    rule = "sample.size"


class Element(NamedTuple):
    element_id: str
    stratum: str


@dataclass(frozen=True)
class StratumDraw:
    stratum: str
    population: int
    allocated: int
    chosen: tuple[str, ...]  # element ids, in rank order


def _bytes(text: str) -> bytes:
    return text.encode("utf-8")


def allocate(sizes: Mapping[str, int], size: int, minimum: int) -> dict[str, int]:
    """Seats per stratum (see the module note, step 2)."""
    if size < 0 or minimum < 0 or any(n < 0 for n in sizes.values()):
        raise SampleSizeError("sizes and the minimum per stratum are not negative", field="--size")
    total = sum(sizes.values())
    if size >= total:
        return dict(sizes)
    low = {s: min(minimum, n) for s, n in sizes.items()}
    if sum(low.values()) > size:
        raise SampleSizeError(f"--size {size} is below the {sum(low.values())} the minimum of {minimum} per stratum "
                              f"needs over {len(sizes)} strata", field="--size")
    fixed: dict[str, int] = {}
    while True:
        free = {s: n for s, n in sizes.items() if s not in fixed}
        seats = size - sum(fixed.values())
        population = sum(free.values())
        quota = {s: Fraction(seats * n, population) if population else Fraction(0) for s, n in free.items()}
        under = [s for s in free if quota[s] < low[s]]
        over = [s for s in free if quota[s] > sizes[s]]
        if under:
            fixed.update({s: low[s] for s in under})
        elif over:
            fixed.update({s: sizes[s] for s in over})
        else:
            break
    seats_of = {**fixed, **{s: int(q) for s, q in quota.items()}}  # int() floors a non-negative fraction
    left = size - sum(seats_of.values())
    by_remainder = sorted(quota, key=lambda s: (-(quota[s] - int(quota[s])), _bytes(s)))
    for s in by_remainder[:left]:
        seats_of[s] += 1
    return {s: seats_of[s] for s in sizes}


def rank_key(seed: bytes, stratum: str, element_id: str) -> bytes:
    return hashlib.sha256(seed + _bytes(stratum) + b"\x00" + _bytes(element_id)).digest()


def draw(seed: bytes, elements: Iterable[Element], size: int, minimum: int) -> list[StratumDraw]:
    """The stratified sample, strata in byte order; every element id must be unique."""
    if len(seed) != 32:
        raise SampleSizeError("the seed is a 32-byte root hash", rule="sample.seed", field="--checkpoint")
    members: dict[str, list[str]] = {}
    seen: set[str] = set()
    for element in elements:
        if element.element_id in seen:
            raise SampleSizeError(f"element {element.element_id} appears twice in the population",
                                  rule="sample.population", field="population")
        seen.add(element.element_id)
        members.setdefault(element.stratum, []).append(element.element_id)
    strata = sorted(members, key=_bytes)
    seats = allocate({s: len(members[s]) for s in strata}, size, minimum)
    result = []
    for s in strata:
        result.append(StratumDraw(s, len(members[s]), seats[s], tuple(ranked(seed, s, members[s])[:seats[s]])))
    return result


def ranked(seed: bytes, stratum: str, element_ids: Iterable[str]) -> list[str]:
    """One stratum's element ids in draw order (step 3)."""
    keyed = sorted((rank_key(seed, stratum, e), e) for e in element_ids)
    return [e for _, e in keyed]


def chosen_ids(draws: Sequence[StratumDraw]) -> list[str]:
    return [e for d in draws for e in d.chosen]
