"""The ledger application: ``submit(envelope) -> Receipt``, on eventsourcing + SQLAlchemy.

Every submission goes check -> decide -> record:
- check: the envelope's shape and payload, then its signature against the submitter's
  live key (nothing is recorded for an envelope that fails here);
- decide: against the client's dossier (or the registry) in memory, by the pure rules
  (``ledger.domain``): accepted, or refused with the rule and field;
- record: the entry as an event and its log row, in one transaction, with the checkpoint
  of the new tree signed and stored before it commits, and the entry's receipt a proof of
  inclusion in it (``ledger.receipt_signing``): one operator signature per write.
``ledger.batches`` does the same for many envelopes at once.

Concurrent submitters on one dossier are serialised twice over. In one process, a decider
holds the dossier's lock from reading the cached aggregate until it is saved or evicted
(``ledger.infra.aggregate_locks``): no other thread ever sees its pending entries. Between
processes, optimistic concurrency: the aggregate's (id, version) is unique in the event
store, so the loser of a race gets a conflict, reloads, and decides again against the
winner's entry. Reads (``fresh``) go to the store, never to the deciders' cache.
"""

from __future__ import annotations

import random
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Collection, Iterable, Sequence

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import IntegrityError, OperationalError
from eventsourcing.utils import Environment
from sqlalchemy import Engine, func, make_url, select
from sqlalchemy.exc import ArgumentError

from ledger.aggregates import REGISTRY_ID, Dossier, Registry, dossier_id
from ledger.batches import submit_batch
from ledger.domain.canonical import canonical_bytes
from ledger.domain.dossier.rules import Context, decide
from ledger.domain.entry import ACCEPTED, REFUSED, entry_body, entry_text, now_utc, recording_date
from ledger.domain.envelope import (
    Envelope,
    b64encode,
    key_id_for,
    parse_envelope,
    public_key_bytes,
    sign,
    verify_signature,
)
from ledger.domain.errors import (
    IdempotencyConflict,
    InvalidSubmission,
    LedgerBusy,
    MalformedSubmission,
    OperatorKeyNotLive,
    Refusal,
    UnknownKey,
    UnknownParty,
)
from ledger.domain.identity import client_ref
from ledger.domain.payloads import is_registry_type, validate_payload
from ledger.domain.receipt import Receipt
from ledger.domain.registry.state import OPERATOR, RegistryState, decide_registry
from ledger.infra.aggregate_locks import AggregateLocks
from ledger.infra.ed25519_pool import Batch, Ed25519Pool
from ledger.infra.storage.engine_setup import engine_url, tune_sqlite
from ledger.infra.storage.entry_reads import EntryReader
from ledger.infra.storage.log_append import LogAppend, StaleDecision
from ledger.infra.storage.migrate import upgrade
from ledger.infra.storage.recorder import LedgerFactory
from ledger.infra.storage.tables import log_entries
from ledger.infra.storage.write_plan import WritePlan
from ledger.infra.transparency.service import SignedCheckpoint, TransparencyLog
from ledger.receipt_signing import BatchCheckpoint, receipt_of
from ledger.settings import Settings, SettingsError, opening_database

MAX_ATTEMPTS = 50
GENESIS_NAMESPACE = uuid.UUID("0b5e1a9c-2f4d-4e6b-8a7c-1d2e3f4a5b6c")


@dataclass
class Decided:
    """Envelopes decided in memory: the aggregates holding their new entries, and the log rows."""

    aggregates: dict[uuid.UUID, Dossier | Registry]
    appends: list[LogAppend]


class _Duplicate(Exception):
    """An envelope_id already recorded (or twice in one batch): handle one at a time."""


class Ledger(Application[uuid.UUID]):
    name = "trajectledger"
    snapshotting_intervals = {Dossier: 50, Registry: 50}

    def __init__(self, settings: Settings, pool: Ed25519Pool | None = None,
                 definitions: Collection[str] | None = None) -> None:
        """``pool``: Ed25519 worker processes that check a batch's signatures, owned (started
        and closed) by the caller; without one, batches are checked in this process. The ledger
        signs one checkpoint per write itself, so the pool needs no key (one it holds must be
        this ledger's operator key). ``definitions``: the
        outflow definitions installed where the ledger runs; a commission naming another is
        not recorded (None: not checked)."""
        self.settings = settings
        self._definitions = None if definitions is None else frozenset(definitions)
        if pool is not None and pool.signing_key is not None and \
                public_key_bytes(pool.signing_key) != public_key_bytes(settings.operator_key):
            raise SettingsError("the signature pool holds another key than this ledger's operator key")
        self.pool = pool if pool is not None else Ed25519Pool(0)
        try:
            backend = make_url(settings.database_url).get_backend_name()
        except ArgumentError as exc:
            raise SettingsError(f"TRAJECTLEDGER_DATABASE_URL is not a database URL: {exc}") from exc
        if backend not in ("sqlite", "postgresql"):
            raise SettingsError(f"TRAJECTLEDGER_DATABASE_URL: the ledger runs on SQLite or PostgreSQL, not {backend}")
        with opening_database(settings.database_url):  # no server, no database, no driver: SettingsError
            super().__init__(env={"SQLALCHEMY_URL": engine_url(settings.database_url),
                                  "AGGREGATE_CACHE_MAXSIZE": "20000", "AGGREGATE_CACHE_FASTFORWARD": "n"})
            tune_sqlite(self.engine)
            upgrade(self.engine)
        self._registry: Registry | None = None
        self._locks = AggregateLocks()
        self._stored = Repository(self.events, snapshot_store=self.snapshots)  # no cache: what is stored now
        self._reader = EntryReader(self.engine, self.recorder.events_record_cls.__table__,  # type: ignore[attr-defined]
                                   self.mapper, REGISTRY_ID)  # type: ignore[arg-type]
        self.operator_key_id = key_id_for(public_key_bytes(settings.operator_key))
        self.transparency = TransparencyLog(self.engine, settings.operator_key, settings.log_origin)
        self.initialise()

    # --- composition -------------------------------------------------------------

    def construct_env(self, name: str, env: Any = None) -> Environment:
        """Only the settings given, never the process environment."""
        values = {"IS_SNAPSHOTTING_ENABLED": "y", **dict(env or {})}
        return Environment(name, values)

    def construct_factory(self, env: Environment) -> LedgerFactory:  # type: ignore[override]
        return LedgerFactory(env)

    def close(self) -> None:
        """Release the database connections."""
        super().close()
        self.engine.dispose()

    @property
    def engine(self) -> Engine:
        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        if not isinstance(engine, Engine):
            raise SettingsError("the event store has no database engine (is the database URL set?)")
        return engine

    # --- public API ----------------------------------------------------------------

    def pseudonym(self, bsn: str) -> str:
        """client_ref for a BSN (which is checked, used, and never stored)."""
        return client_ref(self.settings.pseudonym_key, bsn)

    def registry(self) -> Registry:
        """The registry as last read. Deciding against a stale copy is safe: the log
        append re-checks the registry's version under the write lock (``StaleDecision``)
        and the submission is decided again against the fresh one."""
        registry = self._registry  # one read: another thread may reset it meanwhile
        if registry is None:
            registry = self._registry = self._read_registry()
        return registry

    def current_registry(self) -> RegistryState:
        """The registry as stored now (for authenticating reads: a revocation by any
        process applies at once)."""
        registry = self._registry = self._read_registry()
        return registry.state

    def _read_registry(self) -> Registry:
        """Read from the store; raise ``OperatorKeyNotLive`` if this process's own key is
        not a live operator key (revoked meanwhile, by any process): it must sign nothing."""
        registry: Registry = self.fresh(REGISTRY_ID)
        if registry.state.parties:  # after the genesis entry
            try:
                registry.state.signing_key(OPERATOR, self.operator_key_id)
            except InvalidSubmission as exc:  # unknown or revoked
                raise OperatorKeyNotLive(
                    f"this ledger's operator key {self.operator_key_id} is not a live operator key ({exc.rule}): "
                    "restart it with a live one", field="key_id") from exc
        return registry

    def dossier(self, client_ref: str) -> Dossier:
        """A client's dossier as stored now. Raises ``AggregateNotFoundError``."""
        return self.fresh(dossier_id(client_ref))  # type: ignore[no-any-return]

    def fresh(self, aggregate_id: uuid.UUID) -> Any:
        """Read an aggregate from the store (its latest snapshot and the events after it),
        never from the deciders' cache, whose objects may hold entries not yet saved.

        Commands decide against cached aggregates without asking the database: a stale
        copy cannot do harm, because saving it conflicts on (id, version) and the
        conflict evicts it (see ``record``)."""
        return self._stored.get(aggregate_id)

    def submit(self, data: Any) -> Receipt:
        """Record one signed envelope. Raises ``InvalidSubmission`` when nothing is
        recorded; otherwise returns the receipt, whose verdict may be 'refused'."""
        envelope = self.parsed(data)  # check: shape and payload
        text = canonical_bytes(envelope.payload)
        verify_signature(envelope, self.signing_key(envelope), text)  # check: the submitter's live key signed it
        return self.record(envelope, text)  # decide and record

    def submit_batch(self, items: Sequence[Any]) -> list[Receipt | InvalidSubmission]:
        """Many envelopes, one result each, in order (``ledger.batches``)."""
        return submit_batch(self, items)

    def receipt(self, envelope_id: str) -> Receipt | None:
        """The receipt of an envelope recorded earlier, or None."""
        found = self._reader.recorded(envelope_id)
        return None if found is None else self._receipt_of(found)

    def receipt_if_same(self, envelope: Envelope) -> Receipt | None:
        """The original receipt if this envelope was recorded; a conflict if its id was
        used for another payload; None if it is new."""
        found = self._reader.recorded(envelope.envelope_id)
        if found is None:
            return None
        recorded = Envelope(**found.body["envelope"])
        if recorded.payload_digest() != envelope.payload_digest():
            raise IdempotencyConflict(
                "this envelope_id was used before for a different payload", field="payload.envelope_id"
            )
        return self._receipt_of(found)

    def _receipt_of(self, found: LogAppend) -> Receipt:
        """The receipt of a recorded entry: its inclusion proof against the checkpoint its
        write stored (entries written before that was done: the first checkpoint after them,
        or one of the whole log signed now)."""
        if found.log_index is None:
            raise RuntimeError("a recorded entry has a log index")  # cannot happen: read from log_entries
        checkpoint = self.transparency.covering(found.log_index) or self.checkpoint()
        proof = self.transparency.inclusion_proof(found.log_index, checkpoint.tree_size)
        return receipt_of(found, checkpoint.tree_size, checkpoint.note, tuple(proof))

    def entries(self, start: int = 0, limit: int = 1000) -> list[tuple[int, dict[str, Any]]]:
        """Recorded entries in log order from ``start``: (log_index, entry body), where the
        body is {envelope, verdict, refusal, recorded_at}, read from the event store itself."""
        return self._reader.entries(start, limit)

    def dossier_entries(self, client_ref: str) -> list[tuple[int, dict[str, Any]]]:
        """One client's recorded entries (accepted and refused), in log order, as ``entries``."""
        return self._reader.of_originator(dossier_id(client_ref))

    def checkpoint(self) -> SignedCheckpoint:
        """Sign a checkpoint of the whole log now (the stored one if this size has one),
        with an operator key that is still live."""
        self.current_registry()
        return self.transparency.checkpoint()

    def log_size(self) -> int:
        with self.engine.connect() as connection:
            last = connection.execute(select(func.max(log_entries.c.log_index))).scalar()
        return 0 if last is None else last + 1

    # --- check ---------------------------------------------------------------------------

    def parsed(self, data: Any) -> Envelope:
        """The envelope, its shape and its payload checked (``InvalidSubmission`` if not)."""
        envelope = parse_envelope(data)
        validate_payload(envelope.payload)
        payload = envelope.payload
        if (self._definitions is not None and payload["type"] == "TrajectoryCommissioned"
                and payload["definition"] not in self._definitions):
            raise MalformedSubmission(
                f"no outflow definition {payload['definition']!r} is installed; installed: {', '.join(sorted(self._definitions))}",
                rule="definition.unknown", field="payload.definition")
        return envelope

    def signing_key(self, envelope: Envelope) -> bytes:
        """The submitter's live public key for the envelope's key id (``InvalidSubmission`` if none)."""
        try:
            return self.registry().state.signing_key(envelope.submitter, envelope.key_id)
        except (UnknownParty, UnknownKey):
            self._registry = None  # registered by another process since we cached it?
            return self.registry().state.signing_key(envelope.submitter, envelope.key_id)

    def signatures(self, size: int) -> AbstractContextManager[Batch]:
        """The signature work of a batch of ``size`` envelopes (on worker processes where worth it)."""
        return self.pool.batch(size)

    # --- decide and record ----------------------------------------------------------------

    CONFLICTS = (IntegrityError, StaleDecision, OperationalError, _Duplicate)

    def record(self, envelope: Envelope, text: bytes | None = None) -> Receipt:
        """Decide and write one checked envelope; on a conflict (the dossier moved, the
        registry moved, or the envelope_id exists) look again and decide again."""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                previous = self.receipt_if_same(envelope)
                if previous is not None:
                    return previous
            self.signing_key(envelope)  # revoked meanwhile (e.g. since a batch was checked)?
            try:
                with self.holding([envelope]):
                    guard = BatchCheckpoint(self.transparency)
                    self.write(self.decide([envelope], [text]), guard)
                    return guard.receipts[0]
            except self.CONFLICTS:
                self.forget([envelope])
                if attempt:
                    time.sleep(random.uniform(0, 0.002 * attempt))
        raise LedgerBusy(f"gave up after {MAX_ATTEMPTS} attempts under contention", field="payload.client_ref")

    def holding(self, envelopes: Iterable[Envelope]) -> AbstractContextManager[None]:
        """The locks of the aggregates these envelopes write to: hold them from deciding until written."""
        return self._locks.holding(_targets(envelopes))

    def forget(self, envelopes: Iterable[Envelope]) -> None:
        """After a conflict: what this process knows of these aggregates and of the registry is stale."""
        self._evict(REGISTRY_ID, *_targets(envelopes))
        self._registry = None

    def decide(self, envelopes: list[Envelope], texts: Sequence[bytes | None] | None = None) -> Decided:
        """Decide each envelope in order and record its entry on its aggregate, in memory.
        ``texts``: the envelopes' canonical payloads, where already made."""
        try:
            registry = self.registry()
            parties, registry_version = registry.state, registry.version
        except AggregateNotFoundError:  # only before the genesis entry
            parties, registry_version = RegistryState(), 0
        decided = Decided(self._new_aggregates(envelopes) if len(envelopes) > 1 else {}, [])
        seen: set[str] = set()
        contexts: dict[tuple[str, str], Context] = {}  # one per submitter and day: the same for many envelopes
        try:
            for envelope, text in zip(envelopes, texts or [None] * len(envelopes)):
                if envelope.envelope_id in seen:
                    raise _Duplicate(envelope.envelope_id)
                seen.add(envelope.envelope_id)
                target = self._target(envelope.payload, decided.aggregates)
                recorded_at = now_utc()
                verdict, refusal = ACCEPTED, None
                try:
                    _decide(target, envelope, parties, recorded_at, contexts)
                except Refusal as exc:
                    verdict, refusal = REFUSED, exc.as_dict()
                body = entry_body(envelope.as_dict(), verdict, refusal, recorded_at)
                target.record(entry=body)
                decided.appends.append(LogAppend(target.id, target.version, body, REGISTRY_ID, registry_version,
                                                 text=entry_text(body, text)))
        except BaseException:
            self._evict(*decided.aggregates)  # they hold entries that will not be saved
            raise
        return decided

    def write(self, decided: Decided, guard: BatchCheckpoint) -> None:
        """Write the decided entries and their log rows in one transaction, which commits
        only if ``guard`` lets it (``WritePlan``)."""
        try:
            with self.mapper.entry_texts(decided.appends):  # type: ignore[attr-defined]
                self.save(*decided.aggregates.values(), plan=WritePlan(decided.appends, guard))
        except BaseException:
            self._evict(*decided.aggregates)  # they hold entries that were not saved
            raise
        if REGISTRY_ID in decided.aggregates:
            self._registry = None  # re-read: the cached one has not seen the change
            self.registry()  # OperatorKeyNotLive if the change revoked this ledger's key
        if guard.tree is not None:
            self.transparency.committed(guard.tree)

    def _evict(self, *aggregate_ids: uuid.UUID) -> None:
        cache = self.repository.cache
        for aggregate_id in aggregate_ids:
            if cache is not None:
                try:
                    cache.get(aggregate_id, evict=True)
                except KeyError:
                    pass

    def _new_aggregates(self, envelopes: list[Envelope]) -> dict[uuid.UUID, Dossier | Registry]:
        """For a batch: the aggregates its envelopes open (new clients), found with one
        query rather than two reads per client. A wrong answer is harmless: another
        process opening the same dossier first makes the save conflict."""
        wanted: dict[uuid.UUID, dict[str, Any]] = {}
        for envelope in envelopes:
            key = _target_id(envelope.payload)
            if key not in wanted and not self._cached(key):
                wanted[key] = envelope.payload
        if len(wanted) < 2:
            return {}
        existing = self.recorder.existing(list(wanted))  # type: ignore[attr-defined]
        return {key: Registry() if key == REGISTRY_ID else Dossier(payload["client_ref"])
                for key, payload in wanted.items() if key not in existing}

    def _cached(self, aggregate_id: uuid.UUID) -> bool:
        cache = self.repository.cache
        try:
            return cache is not None and cache.get(aggregate_id) is not None
        except KeyError:
            return False

    def _target(self, payload: dict[str, Any], loaded: dict[uuid.UUID, Dossier | Registry]) -> Dossier | Registry:
        key = _target_id(payload)
        if key not in loaded:
            try:  # the cached aggregate itself, not a copy: its lock is held; on any failure it is evicted
                loaded[key] = self.repository.get(key, deepcopy_from_cache=False)
            except AggregateNotFoundError:
                loaded[key] = Registry() if key == REGISTRY_ID else Dossier(payload["client_ref"])
        return loaded[key]

    # --- genesis -----------------------------------------------------------------------

    def initialise(self) -> None:
        """Record the genesis entry (the operator registering its own key) once, and
        refuse to run with an operator key the ledger does not know."""
        operator_public = public_key_bytes(self.settings.operator_key)
        try:
            registry = self.registry()
        except OperatorKeyNotLive as exc:
            raise SettingsError("the configured operator key is not a live operator key of this ledger") from exc
        except AggregateNotFoundError:
            self._registry = None
            payload = genesis_payload(operator_public)
            envelope = sign(payload, OPERATOR, self.settings.operator_key)
            try:
                with self._locks.holding([REGISTRY_ID]):
                    self.write(self.decide([envelope]), BatchCheckpoint(self.transparency))
            except self.CONFLICTS:
                pass  # another process initialised it at the same moment
            self._registry = None
            registry = self.registry()
        try:
            registry.state.signing_key(OPERATOR, key_id_for(operator_public))
        except (UnknownParty, InvalidSubmission) as exc:
            raise SettingsError("the configured operator key is not a live operator key of this ledger") from exc


def _target_id(payload: dict[str, Any]) -> uuid.UUID:
    return REGISTRY_ID if is_registry_type(payload["type"]) else dossier_id(payload["client_ref"])


def _targets(envelopes: Iterable[Envelope]) -> set[uuid.UUID]:
    return {_target_id(e.payload) for e in envelopes}


def _decide(target: Dossier | Registry, envelope: Envelope, parties: RegistryState, recorded_at: str,
            contexts: dict[tuple[str, str], Context]) -> None:
    """The pure rules: return to accept, raise ``Refusal`` to refuse. ``contexts``: those
    made so far for this ``parties`` (a context depends on the submitter and the day only)."""
    if isinstance(target, Registry):
        decide_registry(target.state, envelope.payload, envelope.submitter)
        contexts.clear()  # a registry entry may change roles or the rules in force for what follows
        return
    key = (envelope.submitter, recorded_at[:13])  # the UTC hour fixes the local day
    context = contexts.get(key)
    if context is None:
        role = parties.role_of(envelope.submitter) or ""
        context = contexts[key] = Context(envelope.submitter, role, recording_date(recorded_at), parties.role_of,
                                          parties.rules, audits_of=parties.audits)
    decide(target.state, envelope.payload, context)


def genesis_payload(operator_public: bytes) -> dict[str, Any]:
    return {
        "envelope_id": str(uuid.uuid5(GENESIS_NAMESPACE, operator_public.hex())),
        "type": "PartyRegistered",
        "occurred_on": recording_date(now_utc()).isoformat(),
        "party_id": OPERATOR,
        "role": "operator",
        "public_key": b64encode(operator_public),
    }
