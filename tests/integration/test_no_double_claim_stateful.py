"""Hypothesis stateful test: any interleaving of submissions by three providers and two
funders never leaves two live (not rejected, not withdrawn) claims for one job of one client.

Runs against the real ledger on SQLite; after every step the invariant is checked on the
ledger's own record (the dossier rebuilt from stored events), not on a model.
"""

from __future__ import annotations

from datetime import date, timedelta

from eventsourcing.application import AggregateNotFoundError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ledger.domain.receipt import Receipt
from tests.support import FUNDERS, PROVIDERS, World, claim, commission, live_overlaps, make_world, new_id, payload

CLIENTS = ("111222333", "123456782")
EMPLOYERS = ("12345678", "87654321")
DAY0 = date(2024, 1, 1)


class Submissions(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.trajectories: list[tuple[str, str, str, str]] = []  # (ref, id, funder, provider)
        self.claims: list[tuple[str, str, str, str]] = []  # (ref, claim_id, provider, funder)

    @initialize(db=st.just(None))
    def open_ledger(self, db: None) -> None:
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.world: World = make_world(f"sqlite:///{self.tmp.name}/l.sqlite3")
        self.refs = [self.world.ledger.pseudonym(b) for b in CLIENTS]

    def teardown(self) -> None:
        self.world.ledger.close()
        self.tmp.cleanup()

    @rule(client=st.integers(0, 1), funder=st.sampled_from(FUNDERS), provider=st.sampled_from(PROVIDERS))
    def commission(self, client: int, funder: str, provider: str) -> None:
        tid = new_id()
        if self.world.submit(funder, commission(self.refs[client], provider, tid, start="2024-01-01",
                                                planned_end="2024-12-31")).accepted:
            self.trajectories.append((self.refs[client], tid, funder, provider))

    @rule(data=st.data(), employer=st.sampled_from(EMPLOYERS), start=st.integers(0, 300),
          months=st.one_of(st.none(), st.integers(1, 12)), as_other=st.booleans())
    def claim(self, data: st.DataObject, employer: str, start: int, months: int | None, as_other: bool) -> None:
        if not self.trajectories:
            return
        ref, tid, funder, provider = data.draw(st.sampled_from(self.trajectories))
        submitter = data.draw(st.sampled_from(PROVIDERS)) if as_other else provider
        job_start = DAY0 + timedelta(days=start)
        end = None if months is None else (job_start + timedelta(days=30 * months)).isoformat()
        p = claim(ref, tid, kvk=employer, job_start=job_start.isoformat(),
                  application_date=(job_start - timedelta(days=10)).isoformat(), contract_end=end)
        if self.world.submit(submitter, p).accepted:
            self.claims.append((ref, p["claim_id"], submitter, funder))

    @rule(data=st.data(), starts=st.lists(st.integers(0, 300), min_size=2, max_size=5),
          tampered=st.sets(st.integers(0, 4), max_size=2))
    def claims_in_one_batch(self, data: st.DataObject, starts: list[int], tampered: set[int]) -> None:
        """Several claims (same employer, often the same client) in one batch, some with a
        signature that does not verify: decided in order, the bad ones recorded nowhere."""
        if not self.trajectories:
            return
        items, drawn = [], []
        for i, start in enumerate(starts):
            ref, tid, funder, provider = data.draw(st.sampled_from(self.trajectories))
            job_start = DAY0 + timedelta(days=start)
            p = claim(ref, tid, kvk=EMPLOYERS[0], job_start=job_start.isoformat(),
                      application_date=(job_start - timedelta(days=10)).isoformat())
            envelope = self.world.signed(provider, p)
            if i in tampered:
                envelope = {**envelope, "signature": envelope["signature"][::-1]}
            items.append(envelope)
            drawn.append((ref, p["claim_id"], provider, funder))
        for i, result in enumerate(self.world.ledger.submit_batch(items)):
            if isinstance(result, Receipt) and result.accepted:
                assert i not in tampered
                self.claims.append(drawn[i])

    @rule(data=st.data(), kind=st.sampled_from(["PlacementRejected", "PlacementWithdrawn", "PlacementConfirmed"]),
          by_right_party=st.booleans())
    def decide_claim(self, data: st.DataObject, kind: str, by_right_party: bool) -> None:
        if not self.claims:
            return
        ref, cid, provider, funder = data.draw(st.sampled_from(self.claims))
        right = provider if kind == "PlacementWithdrawn" else funder
        submitter = right if by_right_party else data.draw(st.sampled_from(FUNDERS + PROVIDERS))
        fields = {"reason": "checked"} if kind == "PlacementRejected" else {}
        self.world.submit(submitter, payload(kind, ref, "2024-12-31", claim_id=cid, **fields))

    @invariant()
    def never_two_live_claims_for_one_job(self) -> None:
        if not hasattr(self, "world"):
            return
        for ref in self.refs:
            try:
                dossier = self.world.ledger.dossier(ref)  # read from the store, not the cache
            except AggregateNotFoundError:  # no dossier for this client yet
                continue
            assert live_overlaps(dossier.data["claims"]) == []


Submissions.TestCase.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestNoDoubleClaim = Submissions.TestCase
