"""``generate``: a seeded, synthetic re-integration history of one municipality.

The same seed (and the same operator key and pseudonymisation) gives byte-identical
envelopes. Payloads are planned first (cheap); the submissions are signed as they are
iterated, so thousands of clients do not hold every signed envelope in memory at once.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, overload

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.entry import ACCEPTED, REFUSED
from ledger.domain.envelope import sign
from ledger.synthetic.behaviour import Behaviour
from ledger.synthetic.bsn import draw_bsns
from ledger.synthetic.follow_ups import after_story
from ledger.synthetic.item import Item
from ledger.synthetic.parties import Party, make_parties, registry_items
from ledger.synthetic.scenarios import SCENARIOS, SHARES
from ledger.synthetic.story import Planned, Story, World
from ledger.synthetic.wage_data import check_wage_data

EMPLOYERS = 400


@dataclass(frozen=True)
class Client:
    bsn: str  # never in a payload; kept so tests can prove it
    client_ref: str
    scenario: str  # a key of ``ledger.synthetic.scenarios.SCENARIOS``


class Submissions(Sequence[Item]):
    """The dossier submissions in the order to submit them, signed on access."""

    def __init__(self, planned: list[Planned], parties: dict[str, Party]) -> None:
        self._planned = planned
        self._parties = parties

    def __len__(self) -> int:
        return len(self._planned)

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...

    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        if isinstance(index, slice):
            return [self._item(p) for p in self._planned[index]]
        return self._item(self._planned[index])

    def __iter__(self) -> Iterator[Item]:
        return map(self._item, self._planned)

    def _item(self, planned: Planned) -> Item:
        envelope = sign(planned.payload, planned.submitter, self._parties[planned.submitter].private_key)
        verdict = ACCEPTED if planned.rule is None else REFUSED
        return Item(envelope.as_dict(), verdict, planned.rule, planned.tags)

    def unsigned(self) -> Iterator[tuple[str, dict[str, Any], str | None]]:
        """(submitter, payload, the expected refusal's rule or None) in order, none signed: for
        tests that decide and fold with the pure rules, with no ledger."""
        return ((p.submitter, p.payload, p.rule) for p in self._planned)

    def counts(self) -> Counter[str]:
        """How many submissions of each type, verdict and tag (without signing any)."""
        counter: Counter[str] = Counter()
        for p in self._planned:
            counter["type:" + p.payload["type"]] += 1
            counter["verdict:" + (ACCEPTED if p.rule is None else REFUSED)] += 1
            if p.rule is not None:
                counter["rule:" + p.rule] += 1
            counter.update("tag:" + tag for tag in p.tags)
        return counter


@dataclass(frozen=True)
class History:
    seed: int
    parties: dict[str, Party]  # by party id, the operator included
    registry: list[Item]  # submit these first, in order
    submissions: Submissions  # then these, in order
    clients: list[Client]


def generate(
    seed: int,
    clients: int,
    operator_key: Ed25519PrivateKey,
    pseudonymise: Callable[[str], str],
    behaviour: Behaviour | None = None,
) -> History:
    """A history of ``clients`` clients from 2021-01-01 to 2026-06-30.

    ``operator_key`` is the ledger's operator key (it signs the registry entries);
    ``pseudonymise`` turns a BSN into its client_ref (in practice ``Ledger.pseudonym``).
    ``behaviour`` plants incentive behaviours (``ledger.synthetic.behaviour``: declines, parking,
    contract lengths per contract type; follow-ups and cooperation); None plants none.
    """
    if clients < 0:
        raise ValueError("clients must be zero or more")
    rng = random.Random(seed)
    parties = make_parties(seed, operator_key)
    registry = registry_items(parties, rng)
    world = World(employers=tuple(f"{n:08d}" for n in rng.sample(range(10_000_000, 100_000_000), EMPLOYERS)))
    bsns = draw_bsns(rng, clients)
    scenarios = allocate(rng, clients)
    people: list[Client] = []
    planned: list[Planned] = []
    for index, (bsn, scenario) in enumerate(zip(bsns, scenarios, strict=True)):
        client = Client(bsn, pseudonymise(bsn), scenario)
        story = Story(random.Random(f"trajectledger-synthetic:{seed}:client:{index}"), client.client_ref, world,
                      behaviour=behaviour)
        SCENARIOS[scenario](story)
        check_wage_data(story)
        if behaviour is not None:
            after_story(story, behaviour)
        people.append(client)
        planned.extend(story.events)
    planned.sort(key=attrgetter("on"))  # stable: a client's same-day facts keep their causal order
    return History(seed, parties, registry, Submissions(planned, parties), people)


def allocate(rng: random.Random, clients: int) -> list[str]:
    """Which scenario each client lives: the special ones by their share (at least one
    each while there are clients to spare), the rest regular, in a seeded order."""
    names: list[str] = []
    for name, share in SHARES:
        names += [name] * max(1, round(clients * share))
    names = names[:clients] + ["regular"] * max(0, clients - len(names))
    rng.shuffle(names)
    return names
