"""The API's reads across dossiers, kept between requests (``projections.incremental``): each
read first brings the read models up to date, then judges again only the dossiers changed
since the figures it keeps, so the first read after a write costs a few dossiers, not a refold
of the whole ledger. Unscoped: the caller's scope is applied to what is kept, per request.

Kept: the replays of the definitions and peildata asked for most recently (``REPLAYS``), the
claims with their flags (no peildatum), the flag listings per peildatum asked for most recently,
and the cooperation shares. One lock: requests read in turn while figures are brought up to date.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from ledger.application import Ledger
from projections.definitions.base import Definition
from projections.definitions.registry import DefinitionRegistry
from projections.flags import Flag, claim_flags
from projections.incremental import KeptReplay, PerClient
from projections.indicators.cooperation import shares
from projections.read_models import ReadModels
from projections.replay import FlaggedClaim, flag_listing

REPLAYS = 4  # the definitions-and-peildatum combinations kept (each holds a result per trajectory)
LISTINGS = 4  # flag listings kept, per peildatum
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class KeptClaim:
    client_ref: str
    claim_id: str
    claim: dict[str, Any]  # as the dossier holds it
    flags: tuple[Flag, ...]  # every flag on it, nothing left out (no peildatum)


class KeptReads:
    def __init__(self, ledger: Ledger, registry: DefinitionRegistry) -> None:
        self.ledger = ledger
        self.registry = registry
        self.models = ReadModels(ledger.engine)
        self._lock = threading.RLock()  # a read may be made while a kept replay is held
        self._replays: OrderedDict[tuple[tuple[str, ...], date], KeptReplay] = OrderedDict()
        self._listings: OrderedDict[date | None, PerClient[FlaggedClaim]] = OrderedDict()
        models = self.models
        self._claims = PerClient[KeptClaim](models, ledger, lambda clients: (
            (client, KeptClaim(client, claim_id, claim, tuple(claim_flags(dossier, claim_id))))
            for client, dossier in models.dossiers(clients) for claim_id, claim in dossier.claims.items()))
        self._claim_counts: Counter[tuple[str, str, str]] = Counter()  # (funder, provider, status) -> claims
        self._answers: tuple[int, dict[Hashable, Any]] = (-2, {})  # answers made at one cursor
        self._shares = PerClient[tuple[str, tuple[str, int]]](models, ledger, lambda clients: (
            (client, item) for client, dossier in models.dossiers(clients)
            for item in shares([(client, dossier)]).items()))

    @contextmanager
    def _current(self) -> Iterator[None]:
        with self._lock:
            self.models.catch_up(self.ledger)
            yield

    @contextmanager
    def replay(self, definitions: Sequence[Definition], peildatum: date) -> Iterator[KeptReplay]:
        """Every trajectory judged under ``definitions`` at ``peildatum``, up to date (held while used)."""
        key = (tuple(d.label for d in definitions), peildatum)
        with self._current():
            kept = _kept(self._replays, key, REPLAYS, lambda: KeptReplay(self.models, self.ledger, definitions, peildatum, self.registry))
            kept.refresh()
            yield kept

    def claims(self, key: Hashable, make: Callable[[Iterable[KeptClaim]], V]) -> V:
        """``make(every claim)``, the claims in client and claim order with their flags; kept
        by ``key`` (what was asked, and by whom) while nothing new is recorded, so that paging
        through a long answer, or asking again, does not make it again."""
        with self._current():
            self._refresh_claims()
            return self._answer(self._claims.at, ("claims", key), lambda: make(self._claims.items()))

    def claim_counts(self, sees: Callable[[str, str], bool]) -> Counter[str]:
        """How many claims per status, of the funders and providers ``sees`` accepts."""
        with self._current():
            self._refresh_claims()
            found: Counter[str] = Counter()
            for (funder, provider, status), count in self._claim_counts.items():
                if sees(funder, provider):
                    found[status] += count
            return found

    def _refresh_claims(self) -> None:
        replaced, added = self._claims.refresh()
        counts = self._claim_counts
        for sign, changed in ((-1, replaced), (1, added)):
            for kept in changed:
                counts[(kept.claim["funder"], kept.claim["provider"], kept.claim["status"])] += sign

    def flags(self, peildatum: date | None, key: Hashable, make: Callable[[Iterable[FlaggedClaim]], V]) -> V:
        """``make(flag_listing of every dossier at peildatum)``, kept as ``claims`` keeps its answers."""
        with self._current():
            listing = _kept(self._listings, peildatum, LISTINGS, lambda: PerClient[FlaggedClaim](
                self.models, self.ledger, lambda clients: _flags(self.models.dossiers(clients), peildatum)))
            listing.refresh()
            return self._answer(listing.at, ("flags", peildatum, key), lambda: make(listing.items()))

    def answer(self, at: int, key: Hashable, make: Callable[[], V]) -> V:
        """``make()``, kept while the read models' cursor stays at ``at``."""
        with self._lock:
            return self._answer(at, key, make)

    def _answer(self, at: int, key: Hashable, make: Callable[[], V]) -> V:
        kept_at, answers = self._answers
        if kept_at != at:
            self._answers = (at, {})
        elif key in answers:
            return answers[key]  # type: ignore[no-any-return]
        made = self._answers[1][key] = make()
        return made

    def shares(self) -> dict[str, tuple[str, int]]:
        """``cooperation.shares`` of every dossier."""
        with self._current():
            self._shares.refresh()
            return dict(self._shares.items())


def _flags(dossiers: Iterable[tuple[str, Any]], peildatum: date | None) -> Iterator[tuple[str, FlaggedClaim]]:
    for client, dossier in dossiers:
        for flagged in flag_listing([(client, dossier)], peildatum):
            yield client, flagged


def _kept(kept: OrderedDict[K, V], key: K, limit: int, make: Callable[[], V]) -> V:
    """``kept[key]``, made when missing; the least recently used go beyond ``limit``."""
    found = kept.get(key)
    if found is None:
        found = kept[key] = make()
        while len(kept) > limit:
            kept.popitem(last=False)
    kept.move_to_end(key)
    return found
