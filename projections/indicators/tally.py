"""What every indicator adds to: a count over a denominator per (group, indicator, slice).

A trajectory counts in its own group and in ``ALL``; ``group_of`` says which group by
provider, contract type or year (of the trajectory's start). ``Measure.value`` is count over
denominator: a share, or for the day measures the mean number of days.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

BYS = ("provider", "contract", "year")
ALL = "(all)"
AREAS = ("selection", "parking", "durability", "deadweight", "follow-up", "cooperation")
_NUMBERED = re.compile(r"(?:intake-)?rung-(\d)|(\d+)(?:m|-months)")


def _slice_rank(slice_: str, first_seen: int) -> tuple[int, int]:
    """"all" first, then numbered slices (rungs, months) by number, then the others as first seen."""
    if slice_ == "all":
        return 0, 0
    numbered = _NUMBERED.fullmatch(slice_)
    if numbered:
        return 1, int(numbered.group(1) or numbered.group(2))
    return 2, first_seen


def group_of(trajectory: dict[str, Any], by: str) -> str:
    if by == "provider":
        return str(trajectory["provider"])
    if by == "contract":
        return str(trajectory["contract"])
    if by == "year":
        return str(trajectory["start"][:4])
    raise ValueError(f"group by one of {', '.join(BYS)}, not {by!r}")


@dataclass(frozen=True, slots=True)
class Measure:
    group: str
    area: str  # selection, parking, durability, deadweight, follow-up, cooperation
    indicator: str
    slice: str
    unit: str  # what count and denominator count
    count: int
    denominator: int
    target: float | None = None  # the contract's target share, where one applies

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.count / self.denominator


class Tally:
    def __init__(self) -> None:
        self._cells: dict[tuple[str, str, str, str, str], list[float]] = {}

    def add(self, groups: Iterable[str], area: str, indicator: str, slice_: str, unit: str,
            count: int, denominator: int = 1, target: float | None = None) -> None:
        """Add ``count`` over ``denominator`` (and a target share, summed per denominator unit)."""
        for group in groups:
            cell = self._cells.setdefault((group, area, indicator, slice_, unit), [0, 0, 0.0, 0])
            cell[0] += count
            cell[1] += denominator
            if target is not None:
                cell[2] += target * denominator
                cell[3] += denominator

    def measures(self) -> list[Measure]:
        """Groups in order with ``ALL`` last; within a group by area (``AREAS``), indicator (as
        first added), then slice (``_slice_rank``)."""
        indicators: dict[tuple[str, str], int] = {}
        slices: dict[str, int] = {}
        for key in self._cells:
            indicators.setdefault(key[1:3], len(indicators))
            slices.setdefault(key[3], len(slices))

        def rank(k: tuple[str, str, str, str, str]) -> tuple[Any, ...]:
            return (k[0] == ALL, k[0], AREAS.index(k[1]), indicators[k[1:3]], _slice_rank(k[3], slices[k[3]]))

        keys = sorted(self._cells, key=rank)
        return [Measure(*key, count=int(c[0]), denominator=int(c[1]), target=(c[2] / c[3]) if c[3] else None)
                for key in keys for c in [self._cells[key]]]
