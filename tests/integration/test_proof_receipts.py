"""Receipts as log proofs, on SQLite and PostgreSQL: one checkpoint signed and stored per
committed write, in its transaction; every receipt of the write (accepted or refused) a
C2SP tlog-proof against it that verifies offline with its envelope; the same receipt
fetched later; several ledger processes on one database keep the proofs right."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from ledger.application import Ledger
from ledger.domain.receipt import Receipt, receipt_from_dict
from ledger.domain.receipt_check import verify_receipt, verify_tlog_proof
from ledger.infra.storage.tables import checkpoints
from tests.support import World, claim, commission, make_world, new_id


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    world = make_world(database_url, workers=2)
    yield world
    world.ledger.close()
    world.ledger.pool.close()


def stored_checkpoints(ledger: Ledger) -> int:
    with ledger.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(checkpoints)).scalar_one())


def test_a_batch_is_one_signed_checkpoint_and_every_receipt_proves_inclusion_in_it(world: World) -> None:
    ref = world.ledger.pseudonym("111222333")
    trajectories = [new_id() for _ in range(3)]
    envelopes = [world.signed("gemeente-haarlem", commission(ref, "werkfit", tid)) for tid in trajectories]
    envelopes.append(world.signed("werkfit", claim(ref, trajectories[0])))
    envelopes.append(world.signed("jobstap", claim(ref, trajectories[1])))  # not its trajectory: refused
    before, size = stored_checkpoints(world.ledger), world.ledger.log_size()
    receipts = world.ledger.submit_batch(envelopes)
    assert all(isinstance(r, Receipt) for r in receipts)
    assert [r.verdict for r in receipts if isinstance(r, Receipt)] == ["accepted"] * 4 + ["refused"]
    assert stored_checkpoints(world.ledger) == before + 1  # one operator signature for the whole batch
    key = world.ledger.transparency.verifier_key
    notes = set()
    for envelope, receipt in zip(envelopes, receipts):
        assert isinstance(receipt, Receipt)
        assert receipt.tree_size == size + len(envelopes)
        assert verify_receipt(receipt, [key], envelope).size == receipt.tree_size
        assert verify_tlog_proof(receipt.tlog_proof(), [key], envelope) == receipt
        again = world.ledger.receipt(receipt.envelope_id)  # fetched: against the checkpoint it was committed under
        assert again is not None and again.as_dict() == receipt.as_dict()
        notes.add(receipt.checkpoint)
    stored = world.ledger.transparency.stored(size + len(envelopes))
    assert stored is not None and notes == {stored.note}


def test_a_receipt_fetched_after_the_log_grew_still_names_its_own_write(world: World) -> None:
    ref = world.ledger.pseudonym("111222333")
    envelope = world.signed("gemeente-haarlem", commission(ref))
    first = world.ledger.submit(envelope)
    for _ in range(3):
        world.submit("gemeente-haarlem", commission(ref))
    fetched = world.ledger.receipt(first.envelope_id)
    assert fetched is not None and fetched.tree_size == first.log_index + 1 < world.ledger.log_size()
    assert receipt_from_dict(fetched.as_dict()) == first
    verify_receipt(fetched, [world.ledger.transparency.verifier_key], envelope)


def test_writers_in_two_processes_keep_each_others_frontier(world: World, database_url: str) -> None:
    other = Ledger(world.ledger.settings)  # another process on the same database, its frontier behind
    try:
        ref = world.ledger.pseudonym("111222333")
        key = world.ledger.transparency.verifier_key
        for n in range(6):
            ledger = other if n % 2 else world.ledger
            envelopes = [world.signed("gemeente-haarlem", commission(ref)) for _ in range(1 + n % 3)]
            results = ledger.submit_batch(envelopes)
            for envelope, receipt in zip(envelopes, results):  # a batch that conflicted was written one by one
                assert isinstance(receipt, Receipt) and receipt.log_index < receipt.tree_size <= ledger.log_size()
                verify_receipt(receipt, [key], envelope)
            assert isinstance(results[-1], Receipt) and results[-1].tree_size == ledger.log_size()
    finally:
        other.close()


def test_the_checkpoint_listing_reads_one_page(world: World) -> None:
    every = list(world.ledger.transparency.checkpoints())
    assert len(every) == world.ledger.log_size()  # the world's writes: one entry each, one checkpoint each
    page, total = world.ledger.transparency.checkpoint_page(2, 3)
    assert total == len(every) and page == every[2:5]
    assert world.ledger.transparency.checkpoint_page(total, 10) == ([], total)
