"""Hypothesis draws how several threads of one ``Ledger`` interleave single submissions and
batches on shared dossiers; whatever it draws, the dossier stays the consistency boundary.

Each example is one concurrent round: 3-6 threads, released together by a barrier, each
submitting its own drawn list of operations (one envelope with ``submit``, or several with
``submit_batch``) for 2-4 clients. The envelopes are claims from different providers on the
same jobs, claims on jobs of their own (some withdrawn later by the same thread), activities,
envelopes sent again (by any thread, even twice in one batch), badly signed claims riding in
batches, and sometimes one batch large enough for the signature workers (written while they
check; written again without the bad ones if one fails). After the round, straight from the
store: every envelope got a receipt or a typed error, one claim per job won and the others
were refused naming it, every valid envelope was recorded exactly once, the stored dossiers
are contiguous (``tests/consistency.py``), and a ledger with no cache reads the claims that
were accepted.

A drawn schedule rather than a ``RuleBasedStateMachine``: the property concerns a single
concurrent round, and its steps cannot be steps of a state machine, which runs them one
after another. One world (parties, trajectories) serves all examples of a test: building
it costs more than an example, and dossiers that grow over the examples (past snapshot
intervals) are part of what is checked. Each example uses fresh employers, so its jobs are
its own. Because the world is shared, an example is not replayable on its own: shrinking
is off, and a failure reports the schedule that failed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from ledger.application import Ledger
from ledger.domain.errors import LedgerError
from ledger.domain.receipt import Receipt
from ledger.infra.ed25519_pool import MIN_PARALLEL
from tests.consistency import assert_consistent
from tests.integration.test_race_threads import assert_one_winner_per_job, claims_world, run_threads
from tests.support import claim, payload

PROVIDERS, CLIENTS = 6, 4  # the world: providers p-0..p-5, each with a trajectory for each of four clients
JOB_START = "2024-06-03"
BULK = MIN_PARALLEL  # a batch this large has its signatures checked by worker processes


@dataclass(frozen=True)
class Spec:
    """One distinct envelope of a round, abstractly (indexes, not ids):

    ``contested``: a claim on contested job ``job``; ``private``: a claim on a job only it claims;
    ``withdraw``: its provider withdraws the private claim ``specs[of]``; ``activity``; ``bad``: a
    claim on contested job ``job`` whose signature is another payload's."""

    kind: str
    client: int
    provider: int
    job: int = -1
    of: int = -1


@dataclass(frozen=True)
class Op:
    specs: tuple[int, ...]  # indexes into Schedule.specs; one may appear twice (sent again)
    batch: bool


@dataclass(frozen=True)
class Schedule:
    specs: tuple[Spec, ...]
    threads: tuple[tuple[Op, ...], ...]
    clients: int


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    n_threads = draw(st.integers(3, 6), label="threads")
    clients = draw(st.integers(2, CLIENTS), label="clients")
    client, provider = st.integers(0, clients - 1), st.integers(0, PROVIDERS - 1)
    specs: list[Spec] = []
    contested = draw(st.lists(st.tuples(client, st.sets(provider, min_size=2, max_size=4)), min_size=1, max_size=3))
    for job, (c, providers) in enumerate(contested):
        specs += [Spec("contested", c, p, job=job) for p in sorted(providers)]
    for job, (c, p, withdrawn) in enumerate(draw(st.lists(st.tuples(client, provider, st.booleans()), max_size=3))):
        specs.append(Spec("private", c, p, job=job))
        if withdrawn:
            specs.append(Spec("withdraw", c, p, of=len(specs) - 1))
    specs += [Spec("activity", c, p) for c, p in draw(st.lists(st.tuples(client, provider), max_size=3))]
    # sent again: anything but a withdrawal (whose verdict would depend on which copy came first)
    again = draw(st.lists(st.sampled_from([i for i, s in enumerate(specs) if s.kind != "withdraw"]), max_size=3))

    placed: list[list[int]] = [[] for _ in range(n_threads)]
    home: dict[int, int] = {}
    for i, spec in enumerate(specs):  # a withdrawal goes to the thread that sends its claim
        home[i] = home[spec.of] if spec.kind == "withdraw" else draw(st.integers(0, n_threads - 1))
        placed[home[i]].append(i)
    for i in again:
        placed[draw(st.integers(0, n_threads - 1))].append(i)

    threads: list[list[list[int]]] = []
    batches: list[list[bool]] = []
    for items in placed:
        order = list(draw(st.permutations(items)))
        for position, i in enumerate(order):  # a withdrawal after its thread first sends the claim
            if specs[i].kind == "withdraw" and order.index(specs[i].of) > position:
                first = order.index(specs[i].of)
                order[position], order[first] = order[first], order[position]
        cuts = draw(st.lists(st.booleans(), min_size=max(len(order) - 1, 0), max_size=max(len(order) - 1, 0)))
        ops: list[list[int]] = [order[:1]] if order else []
        for i, cut in zip(order[1:], cuts):
            if cut:
                ops.append([i])
            else:
                ops[-1].append(i)
        threads.append(ops)
        batches.append([len(op) > 1 or draw(st.booleans()) for op in ops])

    # a large batch (its signatures checked by the worker processes while it is written): an
    # operation grown by BULK activities
    slots = [(t, o) for t, ops in enumerate(threads) for o in range(len(ops))]
    bulk = draw(st.one_of(st.none(), st.tuples(st.sampled_from(slots), client, provider)), label="bulk")
    if bulk is not None:
        (t, o), c, p = bulk
        at = draw(st.integers(0, len(threads[t][o])))
        specs += [Spec("activity", c, p) for _ in range(BULK)]
        threads[t][o][at:at] = range(len(specs) - BULK, len(specs))
        batches[t][o] = True

    # badly signed claims, each inside some batch of some thread (the large one, if drawn so), at a drawn place
    for job, p in draw(st.lists(st.tuples(st.integers(0, len(contested) - 1), provider), max_size=2)):
        t, o = bulk[0] if bulk is not None and draw(st.booleans()) else draw(st.sampled_from(slots))
        specs.append(Spec("bad", contested[job][0], p, job=job))
        threads[t][o].insert(draw(st.integers(0, len(threads[t][o]))), len(specs) - 1)
        batches[t][o] = True
    return Schedule(tuple(specs), tuple(tuple(Op(tuple(op), b) for op, b in zip(ops, bs))
                                        for ops, bs in zip(threads, batches)), clients)


@pytest.mark.slow
def test_drawn_interleavings_of_submissions_and_batches_on_shared_dossiers(database_url: str) -> None:
    world, refs, trajectories = claims_world(database_url, threads=PROVIDERS, clients=CLIENTS, workers=2)
    ledger = world.ledger
    employers = itertools.count(30_000_000)
    accepted_claims: dict[str, set[str]] = {ref: set() for ref in refs}  # over all examples so far
    versions = {ref: ledger.dossier(ref).version for ref in refs}  # expected stored version, likewise

    @settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(schedule=schedules())
    def round_(schedule: Schedule) -> None:
        specs = schedule.specs
        contested_kvk = [f"{next(employers):08d}" for _ in range(1 + max(s.job for s in specs))]
        private_kvk = [f"{next(employers):08d}" for _ in range(1 + max(s.job for s in specs))]
        envelopes: list[dict[str, Any]] = []
        for spec in specs:
            ref, who = refs[spec.client], f"p-{spec.provider}"
            tid = trajectories[(who, ref)]
            if spec.kind in ("contested", "private", "bad"):
                kvk = (private_kvk if spec.kind == "private" else contested_kvk)[spec.job]
                envelope = world.signed(who, claim(ref, tid, kvk=kvk, job_start=JOB_START))
                if spec.kind == "bad":
                    envelope["signature"] = world.signed(who, claim(ref, tid, kvk=kvk, job_start=JOB_START))["signature"]
            elif spec.kind == "withdraw":
                claim_id = envelopes[spec.of]["payload"]["claim_id"]
                envelope = world.signed(who, payload("PlacementWithdrawn", ref, "2024-07-01", claim_id=claim_id))
            else:
                envelope = world.signed(who, payload("ActivityRecorded", ref, "2024-03-01", trajectory_id=tid,
                                                     instrument=1 + len(envelopes) % 34))
            envelopes.append(envelope)
        ids = [e["payload"]["envelope_id"] for e in envelopes]
        note(f"{schedule!r}\nenvelope ids: {list(enumerate(ids))}")
        log_before = ledger.log_size()

        work = [list(ops) for ops in schedule.threads]
        results = run_threads(work, lambda op: (ledger.submit_batch([envelopes[i] for i in op.specs]) if op.batch
                                                else ledger.submit(envelopes[op.specs[0]])))

        # every envelope sent: a receipt or a typed error, never anything else
        got: dict[int, list[Any]] = {i: [] for i in range(len(specs))}
        for op, result in zip((op for ops in work for op in ops), results):
            if op.batch and isinstance(result, list):
                assert len(result) == len(op.specs), (op, result)
                for i, one in zip(op.specs, result):
                    got[i].append(one)
            else:  # one envelope, or a batch that raised as a whole
                for i in op.specs:
                    got[i].append(result)
        strays = {ids[i]: r for i, rs in got.items() for r in rs if not isinstance(r, (Receipt, LedgerError))}
        assert not strays, f"neither a receipt nor a typed error: {strays}"

        # badly signed: a typed signature.invalid, nothing recorded; validly signed: one receipt per
        # envelope_id, the same however often (and by however many threads) it was sent
        receipts: dict[int, Receipt] = {}
        for i, spec in enumerate(specs):
            if spec.kind == "bad":
                assert got[i] and all(isinstance(r, LedgerError) and r.rule == "signature.invalid" for r in got[i]), got[i]
                assert ledger.receipt(ids[i]) is None
                continue
            assert got[i] and all(isinstance(r, Receipt) for r in got[i]), (spec, got[i])
            assert all(r == got[i][0] for r in got[i]), f"{spec} sent {len(got[i])} times: {[r.as_dict() for r in got[i]]}"
            receipts[i] = got[i][0]

        # each distinct valid envelope recorded exactly once, the log dense
        assert ledger.log_size() == log_before + len(receipts)
        assert sorted(r.log_index for r in receipts.values()) == list(range(log_before, log_before + len(receipts)))

        # one winner per contested job, the others refused under claim.unique-job naming it
        contested = [i for i, s in enumerate(specs) if s.kind == "contested"]
        assert_one_winner_per_job([receipts[i] for i in contested], [envelopes[i] for i in contested])
        others = [i for i, s in enumerate(specs) if s.kind in ("private", "withdraw", "activity")]
        assert all(receipts[i].accepted for i in others), {specs[i]: receipts[i].as_dict() for i in others if not receipts[i].accepted}

        for i, receipt in receipts.items():
            ref = refs[specs[i].client]
            versions[ref] += 1
            if specs[i].kind in ("contested", "private") and receipt.accepted:
                accepted_claims[ref].add(envelopes[i]["payload"]["claim_id"])
        withdrawn = {envelopes[s.of]["payload"]["claim_id"] for s in specs if s.kind == "withdraw"}

        assert_consistent(ledger)
        fresh = Ledger(ledger.settings)  # no cache: what another process would read
        try:
            for ref in refs:
                dossier = fresh.dossier(ref)
                assert dossier.version == versions[ref], (ref, dossier.version, versions[ref])
                claims = dossier.data["claims"]
                assert len(claims) == len(accepted_claims[ref]) and set(claims) == accepted_claims[ref]
                assert all(claims[cid]["status"] == "withdrawn" for cid in withdrawn & accepted_claims[ref])
        finally:
            fresh.close()

    try:
        round_()
        assert ledger.pool.size == 2  # the bulk batches could use the workers
    finally:
        ledger.close()
        ledger.pool.close()
