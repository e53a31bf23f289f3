"""The application on a real database (SQLite and PostgreSQL): submit -> receipt."""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import StoredEvent
from sqlalchemy import func, select

from ledger.aggregates import Dossier
from ledger.application import Ledger
from ledger.bundle.export import export_bundle
from ledger.domain.canonical import canonical_bytes
from ledger.domain.envelope import b64encode, key_id_for, public_key_bytes
from ledger.domain.errors import BadSignature, IdempotencyConflict, MalformedSubmission, RevokedKey, UnknownKey, UnknownParty
from ledger.domain.receipt_check import verify_receipt
from ledger.infra.ed25519_pool import Batch
from ledger.infra.storage.tables import log_entries
from ledger.settings import SettingsError
from ledger.synthetic.bsn import draw_bsns
from ledger.verify import verify_bundle
from tests.support import World, claim, commission, make_world, new_id, payload, registry


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    world = make_world(database_url)
    yield world
    world.ledger.close()


def stored_count(ledger: Ledger) -> tuple[int, int]:
    """(events in the event store, entries in the log)."""
    table = ledger.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    with ledger.engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one(), ledger.log_size()


def trajectory(world: World, ref: str, funder: str = "gemeente-haarlem", provider: str = "werkfit") -> str:
    tid = new_id()
    assert world.submit(funder, commission(ref, provider, tid)).accepted
    return tid


def test_accepted_submission_gets_a_signed_receipt_with_a_dense_log_index(world: World) -> None:
    ref = world.ledger.pseudonym("111222333")
    before = world.ledger.log_size()
    envelope = world.signed("gemeente-haarlem", commission(ref))
    receipt = world.ledger.submit(envelope)
    assert receipt.accepted and receipt.refusal is None
    assert receipt.log_index == before and receipt.tree_size == before + 1
    assert verify_receipt(receipt, [world.ledger.transparency.verifier_key], envelope).size == before + 1
    assert world.ledger.log_size() == before + 1
    assert [i for i, _ in world.ledger.entries(0, 1000)] == list(range(before + 1))


def test_double_claim_across_funders_is_refused_and_recorded(world: World) -> None:
    ref = world.ledger.pseudonym("111222333")
    t1 = trajectory(world, ref, "gemeente-haarlem", "werkfit")
    t2 = trajectory(world, ref, "uwv", "jobstap")
    first = claim(ref, t1)
    assert world.submit("werkfit", first).accepted
    events_before, log_before = stored_count(world.ledger)
    second = world.submit("jobstap", claim(ref, t2))
    assert second.verdict == "refused"
    assert second.refusal is not None
    assert second.refusal["rule"] == "claim.unique-job"
    assert second.refusal["conflicting_claim"] == first["claim_id"]
    events_after, log_after = stored_count(world.ledger)
    assert log_after == log_before + 1  # exactly one refusal recorded
    assert events_after == events_before + 1  # the refusal itself
    last = world.ledger.entries(log_after - 1, 1)[0][1]
    assert last["verdict"] == "refused" and last["refusal"]["rule"] == "claim.unique-job"


def _tamper_signature(envelope: dict[str, Any]) -> dict[str, Any]:
    raw = bytearray(base64.b64decode(envelope["signature"]))
    raw[0] ^= 1
    return {**envelope, "signature": base64.b64encode(bytes(raw)).decode()}


@pytest.mark.parametrize(
    ("make", "error", "field"),
    [
        (lambda w, ref: _tamper_signature(w.signed("gemeente-haarlem", commission(ref))), BadSignature, "signature"),
        (lambda w, ref: {**w.signed("gemeente-haarlem", commission(ref)), "submitter": "nobody"}, UnknownParty, "submitter"),
        (lambda w, ref: {**w.signed("gemeente-haarlem", commission(ref)), "key_id": "ed25519:0000000000000000"}, UnknownKey, "key_id"),
        (lambda w, ref: w.signed("gemeente-haarlem", {**commission(ref), "start": "2024-13-01"}), MalformedSubmission, "payload.start"),
        (lambda w, ref: w.signed("gemeente-haarlem", {**commission(ref), "bsn": "111222333"}), MalformedSubmission, "payload.bsn"),
        (lambda w, ref: w.signed("gemeente-haarlem", {**commission(ref), "client_ref": "111222333"}), MalformedSubmission, "payload.client_ref"),
        (lambda w, ref: {**w.signed("werkfit", commission(ref), Ed25519PrivateKey.generate()),
                         "key_id": w.signed("werkfit", {})["key_id"]}, BadSignature, "signature"),
        (lambda w, ref: {"payload": {}}, MalformedSubmission, "submitter"),
    ],
)
def test_untrusted_submissions_store_nothing(world: World, make, error: type[Exception], field: str) -> None:  # type: ignore[no-untyped-def]
    ref = world.ledger.pseudonym("111222333")
    before = stored_count(world.ledger)
    with pytest.raises(error) as err:
        world.ledger.submit(make(world, ref))
    assert err.value.field == field  # type: ignore[attr-defined]
    assert stored_count(world.ledger) == before


@pytest.mark.parametrize(
    ("submitter", "make", "rule"),
    [
        ("werkfit", lambda ref, t: commission(ref), "role.not-allowed"),
        ("jobstap", lambda ref, t: claim(ref, t), "role.not-allowed"),
        ("werkfit", lambda ref, t: claim(ref, t, job_start="2099-01-01", application_date="2098-01-01"), "dates.not-future"),
        ("werkfit", lambda ref, t: payload("ActivityRecorded", ref, "2099-01-01", trajectory_id=t, instrument=3), "dates.not-future"),
        ("uwv", lambda ref, t: payload("PlacementConfirmed", ref, claim_id=new_id()), "reference.unknown"),
    ],
)
def test_signed_rule_breaks_are_recorded_as_one_refusal(world: World, submitter: str, make, rule: str) -> None:  # type: ignore[no-untyped-def]
    ref = world.ledger.pseudonym("111222333")
    t = trajectory(world, ref)
    before = world.ledger.log_size()
    receipt = world.submit(submitter, make(ref, t))
    assert receipt.verdict == "refused" and receipt.refusal is not None
    assert receipt.refusal["rule"] == rule
    assert world.ledger.log_size() == before + 1


def test_same_envelope_twice_returns_the_original_receipt(world: World) -> None:
    ref = world.ledger.pseudonym("123456782")
    envelope = world.signed("gemeente-haarlem", commission(ref))
    first = world.ledger.submit(envelope)
    before = stored_count(world.ledger)
    again = world.ledger.submit(envelope)
    assert again == first
    assert stored_count(world.ledger) == before


def test_same_envelope_id_with_another_payload_is_a_conflict(world: World) -> None:
    ref = world.ledger.pseudonym("123456782")
    p = commission(ref)
    world.submit("gemeente-haarlem", p)
    before = stored_count(world.ledger)
    with pytest.raises(IdempotencyConflict) as err:
        world.submit("gemeente-haarlem", {**p, "fee_cents": 1})
    assert err.value.field == "payload.envelope_id"
    assert stored_count(world.ledger) == before


def test_a_revoked_key_signs_nothing_after_its_revocation(world: World) -> None:
    ref = world.ledger.pseudonym("111222333")
    early = world.submit("gemeente-haarlem", commission(ref))
    assert early.accepted
    key_id = early_key = world.signed("gemeente-haarlem", commission(ref))["key_id"]
    assert world.submit("operator", registry("KeyRevoked", party_id="gemeente-haarlem", key_id=key_id)).accepted
    before = stored_count(world.ledger)
    with pytest.raises(RevokedKey) as err:
        world.submit("gemeente-haarlem", commission(ref))
    assert err.value.field == "key_id"
    assert stored_count(world.ledger) == before
    assert world.ledger.receipt(early.envelope_id) == early  # earlier entries stand
    new_key = Ed25519PrivateKey.generate()
    assert world.submit("operator", registry("KeyAdded", party_id="gemeente-haarlem",
                                             public_key=b64encode(public_key_bytes(new_key)))).accepted
    world.keys["gemeente-haarlem"] = new_key
    assert world.submit("gemeente-haarlem", commission(ref)).accepted
    assert early_key != world.signed("gemeente-haarlem", commission(ref))["key_id"]


def test_only_the_operator_maintains_the_registry(world: World) -> None:
    key = b64encode(public_key_bytes(Ed25519PrivateKey.generate()))
    receipt = world.submit("gemeente-haarlem", registry("PartyRegistered", party_id="sneaky", role="provider", public_key=key))
    assert receipt.refusal is not None and receipt.refusal["rule"] == "role.not-allowed"
    assert world.ledger.registry().state.role_of("sneaky") is None


def test_batch_reports_each_item_and_records_the_valid_ones(world: World) -> None:
    ref = world.ledger.pseudonym("111222333")
    good = world.signed("gemeente-haarlem", commission(ref))
    refused = world.signed("werkfit", commission(ref))
    bad = _tamper_signature(world.signed("uwv", commission(ref)))
    before = world.ledger.log_size()
    results = world.ledger.submit_batch([good, bad, refused, good])
    assert [type(r).__name__ for r in results] == ["Receipt", "BadSignature", "Receipt", "Receipt"]
    assert results[0].accepted and results[2].verdict == "refused"  # type: ignore[union-attr]
    assert results[3] == results[0]  # the same envelope twice: one entry, one receipt
    assert world.ledger.log_size() == before + 2


@pytest.mark.parametrize("filler", [0, 40])  # 40: checked on the workers
def test_a_batch_that_revokes_a_key_records_nothing_signed_with_it_after_the_revocation(
        world: World, filler: int, tmp_path: Any) -> None:
    refs = [world.ledger.pseudonym(bsn) for bsn in draw_bsns(random.Random(11), filler + 2)]
    key_id = key_id_for(public_key_bytes(world.keys["gemeente-haarlem"]))
    before = world.signed("gemeente-haarlem", commission(refs[-2]))
    revoke = world.signed("operator", registry("KeyRevoked", party_id="gemeente-haarlem", key_id=key_id))
    after = world.signed("gemeente-haarlem", commission(refs[-1]))
    fill = [world.signed("uwv", commission(ref)) for ref in refs[:filler]]
    results = world.ledger.submit_batch([*fill, before, revoke, after])
    assert all(getattr(r, "accepted", False) for r in results[:-1])  # signed before the revocation: recorded
    assert isinstance(results[-1], RevokedKey)
    with pytest.raises(AggregateNotFoundError):
        world.ledger.dossier(refs[-1])
    export_bundle(world.ledger, tmp_path / "bundle")
    verify_bundle(tmp_path / "bundle")  # the ledger's own history re-decides to the same verdicts


def test_reopening_the_ledger_keeps_everything(world: World) -> None:
    ref = world.ledger.pseudonym("111222333")
    receipt = world.submit("gemeente-haarlem", commission(ref))
    reopened = Ledger(world.ledger.settings)
    assert reopened.receipt(receipt.envelope_id) == receipt
    assert reopened.log_size() == world.ledger.log_size()
    reopened.close()


def test_a_foreign_operator_key_cannot_open_the_ledger(world: World) -> None:
    from dataclasses import replace

    with pytest.raises(SettingsError):
        Ledger(replace(world.ledger.settings, operator_key=Ed25519PrivateKey.generate()))


def test_log_entries_have_no_gaps_after_conflicts(world: World) -> None:
    ref = world.ledger.pseudonym("111222333")
    t = trajectory(world, ref)
    for _ in range(3):
        world.submit("werkfit", claim(ref, t))
    with world.ledger.engine.connect() as c:
        indexes = list(c.execute(select(log_entries.c.log_index).order_by(log_entries.c.log_index)).scalars())
    assert indexes == list(range(len(indexes)))


def test_a_failed_write_leaves_no_trace_in_the_cached_dossier(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands decide on the cached aggregate itself (no copy): when the write fails for
    any reason, the entry it holds must not survive in the cache."""
    ref = world.ledger.pseudonym("111222333")
    tid = trajectory(world, ref)
    first = claim(ref, tid)
    dossier_before = world.ledger.dossier(ref)

    def broken_save(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(world.ledger, "save", broken_save)
    with pytest.raises(RuntimeError):
        world.submit("werkfit", first)
    with pytest.raises(RuntimeError):  # a batch, which opens its new dossiers up front
        world.ledger.submit_batch([world.signed("werkfit", first),
                                   world.signed("gemeente-haarlem", commission(world.ledger.pseudonym("123456782")))])
    monkeypatch.undo()

    cached: Dossier = world.ledger.repository.get(dossier_before.id, deepcopy_from_cache=False)
    assert cached.version == dossier_before.version
    assert cached.data == dossier_before.data
    receipt = world.submit("werkfit", first)
    assert receipt.accepted and world.ledger.dossier(ref).version == dossier_before.version + 1
    assert world.ledger.dossier(ref).data["claims"][first["claim_id"]]


def test_a_large_batch_is_checked_on_the_workers_and_bad_signatures_store_nothing(database_url: str,
                                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world(database_url, workers=2)
    pool, parallel = world.ledger.pool, []
    reserve = pool.batch

    @contextmanager
    def watched(size: int) -> Iterator[Batch]:
        with reserve(size) as batch:
            parallel.append(batch.parallel)
            yield batch

    monkeypatch.setattr(pool, "batch", watched)
    try:
        _large_batch_with_bad_signatures(world)
        assert parallel == [True]  # the workers checked it (and signed its receipts)
    finally:
        world.ledger.close()
        world.ledger.pool.close()


def test_a_large_batch_checked_in_process_gives_the_same_results(world: World) -> None:
    _large_batch_with_bad_signatures(world)


def _large_batch_with_bad_signatures(world: World) -> None:
    refs = [world.ledger.pseudonym(bsn) for bsn in draw_bsns(random.Random(7), 40)]
    items = [world.signed("gemeente-haarlem", commission(ref)) for ref in refs]
    bad = {3, 11, len(items) - 1}
    for i in bad:
        items[i] = _tamper_signature(items[i])
    events_before, log_before = stored_count(world.ledger)
    results = world.ledger.submit_batch(items)
    assert [i for i, r in enumerate(results) if isinstance(r, BadSignature)] == sorted(bad)
    assert all(r.accepted for i, r in enumerate(results) if i not in bad)  # type: ignore[union-attr]
    assert stored_count(world.ledger) == (events_before + 2 * (len(items) - len(bad)), log_before + len(items) - len(bad))
    for i in bad:  # nothing of theirs: their dossiers were never opened
        with pytest.raises(AggregateNotFoundError):
            world.ledger.dossier(refs[i])



def test_entries_decoded_straight_from_the_stored_state_equal_the_mappers_events(world: World) -> None:
    ref = world.ledger.pseudonym("111222333")
    tid = trajectory(world, ref)
    world.submit("werkfit", claim(ref, tid))
    world.submit("jobstap", claim(ref, tid))  # a refusal too
    table = world.ledger.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    with world.ledger.engine.connect() as c:
        rows = c.execute(select(table).where(table.c.topic.like("%Recorded"))).all()
    by_mapper = {
        (row.originator_id, row.originator_version): world.ledger.mapper.to_domain_event(  # type: ignore[attr-defined]
            StoredEvent(row.originator_id, row.originator_version, row.topic, bytes(row.state))).entry
        for row in rows
    }
    assert len(by_mapper) == world.ledger.log_size()
    for row in rows:
        fast = world.ledger.mapper.entry_of(row.originator_id, row.originator_version, row.topic, bytes(row.state))  # type: ignore[attr-defined]
        assert fast == by_mapper[(row.originator_id, row.originator_version)]
    entries = [body for _, body in world.ledger.entries(0, 1000)]
    assert sorted(map(canonical_bytes, entries)) == sorted(map(canonical_bytes, by_mapper.values()))
