"""Every indicator over every dossier, grouped; and No Cure No Pay beside No Cure Less Pay.

``indicators(dossiers, by, peildatum)`` is pure: the referrals commissioned by the peildatum,
each measured as its modules say, in its group (provider, contract type or year) and in
``(all)``. ``comparison`` sets the two contract types side by side on every indicator, with the
difference in percentage points (shares) or days (the day measures) - Koning's comparison.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from ledger.domain.dossier.state import DossierState
from projections.indicators import cooperation, deadweight, durability, follow_up, parking, selection
from projections.indicators.tally import ALL, Measure, Tally, group_of
from projections.render import Table

NCNP, NCLP = "no-cure-no-pay", "no-cure-less-pay"
MEANS = ("days per placed", "points per answer")  # units whose value is a mean, not a share


@dataclass(frozen=True)
class Comparison:
    area: str
    indicator: str
    slice: str
    unit: str
    no_cure_no_pay: Measure | None
    no_cure_less_pay: Measure | None

    @property
    def difference(self) -> float | None:
        """No Cure No Pay minus No Cure Less Pay (in the value's own terms)."""
        a = self.no_cure_no_pay.value if self.no_cure_no_pay else None
        b = self.no_cure_less_pay.value if self.no_cure_less_pay else None
        return None if a is None or b is None else a - b


@dataclass(frozen=True)
class Indicators:
    by: str
    peildatum: str
    parking_weeks: int
    measures: list[Measure]
    comparison: list[Comparison]


def _tally(dossiers: Iterable[tuple[str, DossierState]], by: str, p: str, weeks: int) -> Tally:
    tally = Tally()
    for _, dossier in dossiers:
        for trajectory_id, t in dossier.trajectories.items():
            if t["commissioned_on"] > p:
                continue
            groups = (group_of(t, by), ALL)
            selection.add_referral(tally, groups, t)
            if t.get("declined") is not None:
                continue
            parking.add_trajectory(tally, groups, dossier, trajectory_id, p, weeks)
            durability.add_trajectory(tally, groups, dossier, trajectory_id, p)
            deadweight.add_trajectory(tally, groups, dossier, trajectory_id, p)
            cooperation.add_trajectory(tally, groups, dossier, trajectory_id, p, by == "provider")
            follow_up.add_trajectory(tally, groups, dossier, trajectory_id, p)
    return tally


def indicators(dossiers: Iterable[tuple[str, DossierState]], by: str, peildatum: date,
               weeks: int = parking.DEFAULT_WEEKS) -> Indicators:
    if weeks < 1:
        raise ValueError("parking is counted after one week or more without activity")
    held = list(dossiers)
    p = peildatum.isoformat()
    measures = _tally(held, by, p, weeks).measures()
    by_contract = measures if by == "contract" else _tally(held, "contract", p, weeks).measures()
    return Indicators(by, p, weeks, measures, comparison(by_contract))


def only_areas(result: Indicators, areas: Iterable[str]) -> Indicators:
    keep = set(areas)
    return replace(result, measures=[m for m in result.measures if m.area in keep],
                   comparison=[c for c in result.comparison if c.area in keep])


def comparison(by_contract: Iterable[Measure]) -> list[Comparison]:
    cells: dict[tuple[str, str, str, str], dict[str, Measure]] = {}
    for m in by_contract:
        if m.group in (NCNP, NCLP):
            cells.setdefault((m.area, m.indicator, m.slice, m.unit), {})[m.group] = m
    return [Comparison(*key, pair.get(NCNP), pair.get(NCLP)) for key, pair in cells.items()]  # in the measures' order


def _value(m: Measure | None, compact: bool) -> Any:
    if m is None or m.value is None:
        return None
    if not compact:
        return round(m.value, 4)
    return f"{m.value:.1f}" if m.unit in MEANS else f"{100 * m.value:.1f}%"


def _cell(m: Measure | None) -> str | None:
    return None if m is None else f"{_value(m, True) or '-'} ({m.count}/{m.denominator})"


def measures_table(result: Indicators, compact: bool) -> Table:
    title = f"Indicators by {result.by} - peildatum {result.peildatum}, parked after {result.parking_weeks} weeks"
    rows = [[m.group, m.area, m.indicator, m.slice, m.unit, m.count, m.denominator, _value(m, compact),
             None if m.target is None else (f"{100 * m.target:.1f}%" if compact else round(m.target, 4))]
            for m in result.measures]
    return Table(title, [result.by, "area", "indicator", "slice", "unit", "count", "denominator", "value", "target"], rows)


def comparison_table(result: Indicators, compact: bool) -> Table:
    def difference(c: Comparison) -> Any:
        d = c.difference
        if d is None or not compact:
            return None if d is None else round(d, 4)
        if c.unit == "days per placed":
            return f"{d:+.1f} days"
        if c.unit == "points per answer":
            return f"{d:+.2f} points"
        return f"{100 * d:+.1f} pt"

    title = f"No Cure No Pay vs No Cure Less Pay - peildatum {result.peildatum}"
    if compact:  # one cell per contract type: value (count/denominator)
        return Table(title, ["area", "indicator", "slice", "unit", NCNP, NCLP, "difference"], [
            [c.area, c.indicator, c.slice, c.unit, _cell(c.no_cure_no_pay), _cell(c.no_cure_less_pay), difference(c)]
            for c in result.comparison])

    def parts(m: Measure | None) -> list[Any]:
        return [None, None, None] if m is None else [m.count, m.denominator, _value(m, False)]

    columns = [f"{kind}_{part}" for kind in (NCNP, NCLP) for part in ("count", "denominator", "value")]
    return Table(title, ["area", "indicator", "slice", "unit", *columns, "difference"], [
        [c.area, c.indicator, c.slice, c.unit, *parts(c.no_cure_no_pay), *parts(c.no_cure_less_pay), difference(c)]
        for c in result.comparison])


def _measure(m: Measure | None) -> dict[str, Any] | None:
    return None if m is None else {**asdict(m), "value": m.value}


def indicators_document(result: Indicators, as_known_at: str | None) -> dict[str, Any]:
    return {
        "by": result.by, "peildatum": result.peildatum, "as_known_at": as_known_at,
        "parking_weeks": result.parking_weeks,
        "measures": [_measure(m) for m in result.measures],
        "comparison": [{"area": c.area, "indicator": c.indicator, "slice": c.slice, "unit": c.unit,
                        NCNP: _measure(c.no_cure_no_pay), NCLP: _measure(c.no_cure_less_pay),
                        "difference": c.difference} for c in result.comparison],
    }
