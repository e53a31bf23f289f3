"""Figures kept between reads and brought up to date from the read models: after new entries,
only the clients whose dossiers those entries changed are judged again, never the whole ledger.

Every kept figure is a function of one dossier at a time (a trajectory's verdicts, a claim's
flags), so the figures of a ledger are the figures of its dossiers put together in client
order. ``PerClient`` keeps them per client at a read-model position (the cursor): on a read it
asks which dossiers the entries applied since that position concern (``ReadModels.changed_since``
reads them from the log), computes those again from the read models and puts them in place.
A read-model reset (the cursor moved back), or very many entries since, recomputes everything.
The result is the same as computing it all again at that position
(``tests/projections/test_incremental.py``); what changes is the cost: a handful of dossiers
instead of 100,000 after a write.

``KeptReplay`` does this for ``Replay``: the verdicts of every trajectory under chosen
definitions at one peildatum, and its outflow counts kept per (funder, provider, cohort), so
that the rates of any grouping, for whichever funders and providers a caller may see, are
added up from a few hundred cells instead of 100,000 results.

Not thread-safe by itself: its user holds a lock around ``refresh`` and the reads after it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from projections.definitions.base import Definition
from projections.definitions.registry import DefinitionRegistry
from projections.evaluation import GROUPS, TrajectoryResult
from projections.read_models import ReadModels
from projections.replay import ALL_GROUPS, Counts, RateRow, Replay
from projections.source import EntrySource

T = TypeVar("T")
NOTHING = -2  # the position of a figure not computed yet (the cursor of empty read models is -1)


class PerClient(Generic[T]):
    """Items computed per client, kept at a read-model position.

    ``compute(clients)`` yields ``(client_ref, item)`` for the given clients (every client when
    None); a client may have no items. ``refresh`` brings them up to date and returns the
    items it replaced and the ones it put in their place (everything on a full computation)."""

    def __init__(self, models: ReadModels, source: EntrySource,
                 compute: Callable[[Sequence[str] | None], Iterable[tuple[str, T]]]) -> None:
        self.models = models
        self.source = source
        self.compute = compute
        self.at = NOTHING
        self.full_computations = 0  # how often everything was computed (1 while only dossiers changed)
        self._items: dict[str, list[T]] = {}
        self._order: list[str] = []  # the clients with items, sorted

    def refresh(self) -> tuple[list[T], list[T]]:
        """Up to date with the read models (bring those up to date first); (replaced, new)."""
        at, changed = self.models.changed_since(self.source, max(self.at, -1))
        if self.at == NOTHING or at < self.at or changed is None:  # never computed, reset, or too much new
            return self._compute_all(at)
        if not changed:
            self.at = at
            return [], []
        fresh = _grouped(self.compute(changed))
        replaced: list[T] = []
        added: list[T] = []
        for client in changed:
            old = self._items.pop(client, None)
            if old is not None:
                replaced.extend(old)
            new = fresh.get(client)
            if new:
                added.extend(new)
                self._items[client] = new
                if old is None:
                    bisect.insort(self._order, client)
            elif old is not None:
                del self._order[bisect.bisect_left(self._order, client)]
        self.at = at
        return replaced, added

    def _compute_all(self, at: int) -> tuple[list[T], list[T]]:
        replaced = list(self.items())
        self._items = _grouped(self.compute(None))
        self._order = sorted(self._items)
        self.at = at
        self.full_computations += 1
        return replaced, list(self.items())

    def items(self) -> Iterator[T]:
        """Every item, in client order (and each client's own order)."""
        items = self._items
        for client in self._order:
            yield from items[client]


def _grouped(pairs: Iterable[tuple[str, T]]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = {}
    for client, item in pairs:
        found = grouped.get(client)
        if found is None:
            grouped[client] = [item]
        else:
            found.append(item)
    return grouped


@dataclass
class _Cell:
    """The trajectories of one funder, provider and cohort: their counts under each chosen
    definition and their contracts' own, and how many the definitions judge differently."""

    counts: RateRow
    differences: int = 0


class KeptReplay:
    """``replay_ledger`` with everything recorded (no cut-off), kept and brought up to date."""

    def __init__(self, models: ReadModels, source: EntrySource, definitions: Sequence[Definition], peildatum: date,
                 registry: DefinitionRegistry | None = None) -> None:
        self.definitions = tuple(definitions)
        self.peildatum = peildatum
        self.names = [d.name for d in definitions]
        self.results = PerClient[TrajectoryResult](
            models, source, lambda clients: ((r.client_ref, r) for r in models.evaluate(definitions, peildatum, registry, clients)))
        self._cells: dict[tuple[str, str, int], _Cell] = {}

    def refresh(self) -> None:
        replaced, added = self.results.refresh()
        for result in replaced:
            self._count(result, -1)
        for result in added:
            self._count(result, +1)

    @property
    def at(self) -> int:
        """The read models' cursor the figures are at."""
        return self.results.at

    def _count(self, result: TrajectoryResult, sign: int) -> None:
        key = (result.funder, result.provider, result.cohort)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = _Cell(RateRow("", counts={name: Counts() for name in self.names}))
        cell.counts.add(result, self.names, sign)
        if len({result.verdicts[name].outcome for name in self.names}) > 1:
            cell.differences += sign
        if cell.counts.trajectories == 0:
            del self._cells[key]

    def replay(self, sees: Callable[[str, str], bool]) -> Replay:
        """The ``Replay`` of the trajectories whose funder and provider ``sees`` accepts."""
        return Replay(self.definitions, self.peildatum, None,
                      [r for r in self.results.items() if sees(r.funder, r.provider)])

    def rates(self, by: str, sees: Callable[[str, str], bool]) -> list[RateRow]:
        """``Replay.rates(by)`` of ``replay(sees)``, added up from the kept counts."""
        if by not in GROUPS:
            raise ValueError(f"group by one of {', '.join(GROUPS)}, not {by!r}")
        rows: dict[str, RateRow] = {}
        total = RateRow(ALL_GROUPS, counts={name: Counts() for name in self.names})
        for (funder, provider, cohort), cell in self._cells.items():
            if not sees(funder, provider):
                continue
            key = {"provider": provider, "funder": funder, "cohort": str(cohort)}[by]
            row = rows.get(key)
            if row is None:
                row = rows[key] = RateRow(key, counts={name: Counts() for name in self.names})
            row.merge(cell.counts)
            total.merge(cell.counts)
        return [rows[key] for key in sorted(rows)] + [total]

    def differences_total(self, sees: Callable[[str, str], bool]) -> int:
        """``len(replay(sees).differences())``, from the kept counts."""
        return sum(cell.differences for (funder, provider, _), cell in self._cells.items() if sees(funder, provider))
