"""The ledger application: ``submit(envelope) -> Receipt`` on eventsourcing + SQLAlchemy.

Flow (DESIGN.md): parse -> verify the signature against the submitter's unrevoked key ->
idempotency by envelope_id -> load the aggregate -> decide (pure) -> record the entry,
accepted or refused -> append to the log in the same transaction -> signed receipt.

Concurrent submitters on one dossier are serialised twice over. In one process, a decider
holds the dossier's lock from reading the cached aggregate until it is saved or evicted
(``ledger.infra.aggregate_locks``): no other thread ever sees its pending entries. Between
processes, optimistic concurrency: the aggregate's (id, version) is unique in the event
store, so the loser of a race gets an IntegrityError, reloads, and decides again against
the winner's entry. Reads (``fresh``) go to the store, never to the deciders' cache.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.utils import Environment, get_topic
from sqlalchemy import Engine, Select, event, func, make_url, select
from sqlalchemy.exc import ArgumentError

from ledger.aggregates import REGISTRY_ID, Dossier, Registry, dossier_id
from ledger.domain.canonical import canonical_bytes
from ledger.domain.dossier.rules import Context, decide
from ledger.domain.entry import ACCEPTED, REFUSED, entry_body, entry_text, now_utc, recording_date
from ledger.domain.envelope import (
    Envelope,
    b64decode,
    b64encode,
    key_id_for,
    parse_envelope,
    public_key_bytes,
    sign,
    signature_fails,
    verify_signature,
)
from ledger.domain.errors import (
    IdempotencyConflict,
    InvalidSubmission,
    LedgerBusy,
    OperatorKeyNotLive,
    Refusal,
    UnknownKey,
    UnknownParty,
)
from ledger.domain.identity import client_ref
from ledger.domain.payloads import is_registry_type, validate_payload
from ledger.domain.receipt import Receipt
from ledger.domain.registry.state import OPERATOR, RegistryState, decide_registry
from ledger.infra import signature_pool
from ledger.infra.aggregate_locks import AggregateLocks
from ledger.infra.storage.log_append import LogAppend, StaleDecision
from ledger.infra.storage.migrate import upgrade
from ledger.infra.storage.recorder import LedgerFactory
from ledger.infra.storage.tables import log_entries
from ledger.infra.transparency.service import SignedCheckpoint, TransparencyLog
from ledger.settings import Settings, SettingsError

MAX_ATTEMPTS = 50
_RECORDED = {get_topic(cls): cls for cls in (Dossier.Recorded, Registry.Recorded)}
GENESIS_NAMESPACE = uuid.UUID("0b5e1a9c-2f4d-4e6b-8a7c-1d2e3f4a5b6c")


class Ledger(Application[uuid.UUID]):
    name = "trajectledger"
    snapshotting_intervals = {Dossier: 50, Registry: 50}

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        try:
            backend = make_url(settings.database_url).get_backend_name()
        except ArgumentError as exc:
            raise SettingsError(f"TRAJECTLEDGER_DATABASE_URL is not a database URL: {exc}") from exc
        if backend not in ("sqlite", "postgresql"):
            raise SettingsError(f"TRAJECTLEDGER_DATABASE_URL: the ledger runs on SQLite or PostgreSQL, not {backend}")
        super().__init__(env={"SQLALCHEMY_URL": _engine_url(settings.database_url), "AGGREGATE_CACHE_MAXSIZE": "20000",
                                   "AGGREGATE_CACHE_FASTFORWARD": "n"})
        _tune_sqlite(self.engine)
        upgrade(self.engine)
        self._registry: Registry | None = None
        self._locks = AggregateLocks()
        self._stored = Repository(self.events, snapshot_store=self.snapshots)  # no cache: what is stored now
        self._operator_key_id = key_id_for(public_key_bytes(settings.operator_key))
        self.transparency = TransparencyLog(self.engine, settings.operator_key, settings.log_origin,
                                            every_entries=settings.checkpoint_every_entries,
                                            every_seconds=settings.checkpoint_every_seconds)
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
                registry.state.signing_key(OPERATOR, self._operator_key_id)
            except InvalidSubmission as exc:  # unknown or revoked
                raise OperatorKeyNotLive(
                    f"this ledger's operator key {self._operator_key_id} is not a live operator key ({exc.rule}): "
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
        conflict evicts it (see ``_record_with_retry``)."""
        return self._stored.get(aggregate_id)

    def _evict(self, *aggregate_ids: uuid.UUID) -> None:
        cache = self.repository.cache
        for aggregate_id in aggregate_ids:
            if cache is not None:
                try:
                    cache.get(aggregate_id, evict=True)
                except KeyError:
                    pass

    def submit(self, data: Any) -> Receipt:
        """Record one signed envelope. Raises ``InvalidSubmission`` when nothing is
        recorded; otherwise returns the receipt, whose verdict may be 'refused'."""
        envelope, payload_text = self._checked(data)
        return self._record_with_retry(envelope, payload_text)

    def submit_batch(self, items: Sequence[Any]) -> list[Receipt | InvalidSubmission]:
        """Many envelopes, one result each, in order. Valid ones are recorded in one
        transaction; their signatures are checked on all cores while the batch is parsed,
        decided and written, and the transaction commits only once every signature held
        (a bad one: decided and written again without it). Any conflict falls back to
        one at a time (with retries)."""
        results: list[Receipt | InvalidSubmission | None] = [None] * len(items)
        checked: list[tuple[int, Envelope]] = []
        texts: list[bytes] = []  # the canonical payloads: the signed messages
        with signature_pool.start(len(items)) as signatures:
            for i, data in enumerate(items):
                try:
                    envelope = self._shape_checked(data)
                    text = canonical_bytes(envelope.payload)
                    signatures.check((self._signing_key(envelope), b64decode(envelope.signature, "signature", 64), text))
                    checked.append((i, envelope))
                    texts.append(text)
                except InvalidSubmission as exc:
                    results[i] = exc
            envelopes = [e for _, e in checked]
            try:
                with self._locks.holding(self._targets(envelopes)):
                    receipts = self._commit_batch(envelopes, texts, signatures)
                signed = iter(receipts)
                for (i, _), ok in zip(checked, signatures.results()):
                    results[i] = next(signed) if ok else signature_fails()
            except (IntegrityError, OperationalError, StaleDecision, _Duplicate):
                self._evict(REGISTRY_ID, *self._targets(envelopes))
                self._registry = None
                for (i, envelope), text, ok in zip(checked, texts, signatures.results()):
                    try:
                        results[i] = self._record_with_retry(envelope, text) if ok else signature_fails()
                    except InvalidSubmission as exc:
                        results[i] = exc
        return [r for r in results if r is not None]

    def _commit_batch(self, envelopes: list[Envelope], texts: list[bytes], signatures: signature_pool.Batch) -> list[Receipt]:
        """Decide and write a batch (its aggregates' locks held), one receipt per envelope
        whose signature held. On workers: written while they check, committed only if every
        signature held, else decided and written again without the bad ones."""
        if signatures.parallel:
            try:
                return self._commit(self._prepare(envelopes, texts), signatures, unchecked=True)
            except _BadSignature:
                pass
        good = [(e, t) for e, t, ok in zip(envelopes, texts, signatures.results()) if ok]
        return self._commit(self._prepare([e for e, _ in good], [t for _, t in good]), signatures)

    def receipt(self, envelope_id: str) -> Receipt | None:
        """The receipt of an envelope recorded earlier, or None."""
        found = self._recorded(envelope_id)
        return None if found is None else self._signed_receipt(found)

    def entries(self, start: int = 0, limit: int = 1000) -> list[tuple[int, dict[str, Any]]]:
        """Recorded entries in log order from ``start``: (log_index, entry body), where the
        body is {envelope, verdict, refusal, recorded_at}. Read from the event store itself,
        so a byte changed in a stored event shows up here (and fails verification)."""
        query = self._logged_events().where(log_entries.c.log_index >= start).order_by(log_entries.c.log_index).limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [(row.log_index, self._entry_of(row)) for row in rows]

    def checkpoint(self) -> SignedCheckpoint:
        """Sign a checkpoint of the whole log now (the stored one if this size has one),
        with an operator key that is still live."""
        self.current_registry()
        return self.transparency.checkpoint()

    def log_size(self) -> int:
        with self.engine.connect() as connection:
            last = connection.execute(select(func.max(log_entries.c.log_index))).scalar()
        return 0 if last is None else last + 1

    # --- checking -----------------------------------------------------------------------

    def _checked(self, data: Any) -> tuple[Envelope, bytes]:
        """Shape, payload and signature against the submitter's live key - before anything
        else. With the payload's canonical bytes (the signed message)."""
        envelope = self._shape_checked(data)
        payload_text = canonical_bytes(envelope.payload)
        verify_signature(envelope, self._signing_key(envelope), payload_text)
        return envelope, payload_text

    @staticmethod
    def _shape_checked(data: Any) -> Envelope:
        envelope = parse_envelope(data)
        validate_payload(envelope.payload)
        return envelope

    def _signing_key(self, envelope: Envelope) -> bytes:
        try:
            return self.registry().state.signing_key(envelope.submitter, envelope.key_id)
        except (UnknownParty, UnknownKey):
            self._registry = None  # registered by another process since we cached it?
            return self.registry().state.signing_key(envelope.submitter, envelope.key_id)

    # --- recording -------------------------------------------------------------------

    def _record_with_retry(self, envelope: Envelope, payload_text: bytes | None = None) -> Receipt:
        """Optimistic: decide and write; on a conflict (the dossier moved, the registry
        moved, or the envelope_id exists) look again and decide again."""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                previous = self.receipt_if_same(envelope)
                if previous is not None:
                    return previous
            self._signing_key(envelope)  # revoked meanwhile (e.g. since a batch was checked)?
            try:
                with self._locks.holding(self._targets([envelope])):
                    return self._commit(self._prepare([envelope], [payload_text]))[0]
            except (IntegrityError, StaleDecision, OperationalError, _Duplicate):
                self._evict(REGISTRY_ID, *self._targets([envelope]))
                self._registry = None
                if attempt:
                    time.sleep(random.uniform(0, 0.002 * attempt))
        raise LedgerBusy(f"gave up after {MAX_ATTEMPTS} attempts under contention", field="payload.client_ref")

    def receipt_if_same(self, envelope: Envelope) -> Receipt | None:
        """The original receipt if this envelope was recorded; a conflict if its id was
        used for another payload; None if it is new."""
        found = self._recorded(envelope.envelope_id)
        if found is None:
            return None
        recorded = Envelope(**found.body["envelope"])
        if recorded.payload_digest() != envelope.payload_digest():
            raise IdempotencyConflict(
                "this envelope_id was used before for a different payload", field="payload.envelope_id"
            )
        return self._signed_receipt(found)

    def _prepare(self, envelopes: list[Envelope], payload_texts: Sequence[bytes | None] | None = None) -> _Prepared:
        """Decide each envelope in order and record its entry on its aggregate, in memory.
        ``payload_texts``: the envelopes' canonical payloads, where already made."""
        try:
            registry = self.registry()
            parties, registry_version = registry.state, registry.version
        except AggregateNotFoundError:  # only before the genesis entry
            parties, registry_version = RegistryState(), 0
        prepared = _Prepared(self._new_aggregates(envelopes) if len(envelopes) > 1 else {}, [])
        seen: set[str] = set()
        try:
            for envelope, payload_text in zip(envelopes, payload_texts or [None] * len(envelopes)):
                if envelope.envelope_id in seen:
                    raise _Duplicate(envelope.envelope_id)
                seen.add(envelope.envelope_id)
                target = self._target(envelope.payload, prepared.aggregates)
                recorded_at = now_utc()
                verdict, refusal = ACCEPTED, None
                try:
                    self._decide(target, envelope, parties, recorded_at)
                except Refusal as exc:
                    verdict, refusal = REFUSED, exc.as_dict()
                body = entry_body(envelope.as_dict(), verdict, refusal, recorded_at)
                target.record(entry=body)
                prepared.appends.append(LogAppend(target.id, target.version, body, REGISTRY_ID, registry_version,
                                                  text=entry_text(body, payload_text)))
        except BaseException:
            self._evict(*prepared.aggregates)  # they hold entries that will not be saved
            raise
        return prepared

    def _commit(self, prepared: _Prepared, signatures: signature_pool.Batch | None = None, *,
                unchecked: bool = False) -> list[Receipt]:
        """Write the prepared entries and their log rows in one transaction, with their
        receipts signed before it commits (by the batch's workers, while the rows are
        written). ``unchecked``: the envelopes' signatures are still being checked on
        ``signatures``; if one fails, nothing is committed (``_BadSignature``)."""
        receipts: list[Receipt] = []
        signing: list[Callable[[], list[Receipt]]] = []

        def indexed() -> None:
            signing.append(self._sign_receipts(prepared.appends, signatures))

        def before_commit() -> None:
            if unchecked and signatures is not None and not all(signatures.results()):
                raise _BadSignature
            receipts.extend(signing[0]())

        try:
            with self.mapper.entry_texts(prepared.appends):  # type: ignore[attr-defined]
                self.save(*prepared.aggregates.values(), log_appends=prepared.appends, indexed=indexed,
                          before_commit=before_commit)
        except BaseException:
            self._evict(*prepared.aggregates)  # they hold entries that were not saved
            raise
        if REGISTRY_ID in prepared.aggregates:
            self._registry = None  # re-read: the cached one has not seen the change
            self.registry()  # OperatorKeyNotLive if the change revoked this ledger's key
        self.transparency.appended(prepared.appends)
        return receipts

    def _new_aggregates(self, envelopes: list[Envelope]) -> dict[uuid.UUID, Dossier | Registry]:
        """For a batch: the aggregates its envelopes open (new clients), found with one
        query rather than two reads per client. A wrong answer is harmless: another
        process opening the same dossier first makes the save conflict."""
        wanted: dict[uuid.UUID, dict[str, Any]] = {}
        for envelope in envelopes:
            key = self._target_id(envelope.payload)
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

    @staticmethod
    def _target_id(payload: dict[str, Any]) -> uuid.UUID:
        return REGISTRY_ID if is_registry_type(payload["type"]) else dossier_id(payload["client_ref"])

    @staticmethod
    def _targets(envelopes: Iterable[Envelope]) -> set[uuid.UUID]:
        return {Ledger._target_id(e.payload) for e in envelopes}

    def _target(self, payload: dict[str, Any], loaded: dict[uuid.UUID, Dossier | Registry]) -> Dossier | Registry:
        key = self._target_id(payload)
        if key not in loaded:
            try:  # the cached aggregate itself, not a copy: its lock is held; on any failure it is evicted
                loaded[key] = self.repository.get(key, deepcopy_from_cache=False)
            except AggregateNotFoundError:
                loaded[key] = Registry() if key == REGISTRY_ID else Dossier(payload["client_ref"])
        return loaded[key]

    @staticmethod
    def _decide(target: Dossier | Registry, envelope: Envelope, parties: RegistryState, recorded_at: str) -> None:
        if isinstance(target, Registry):
            decide_registry(target.state, envelope.payload, envelope.submitter)
            return
        role = parties.role_of(envelope.submitter) or ""
        today = recording_date(recorded_at)
        decide(target.state, envelope.payload, Context(envelope.submitter, role, today, parties.role_of))

    # --- receipts ----------------------------------------------------------------------

    def _recorded(self, envelope_id: str) -> LogAppend | None:
        """The log entry recorded for an envelope_id, rebuilt from the event store."""
        query = self._logged_events().where(log_entries.c.envelope_id == envelope_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        found = LogAppend(row.originator_id, row.originator_version, self._entry_of(row), REGISTRY_ID, 0)
        found.log_index, found.leaf_hash = row.log_index, bytes(row.leaf_hash)
        return found

    def _logged_events(self) -> Select[Any]:
        """Log entries joined with the stored events they index (the event is the source of truth)."""
        events = self.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        return select(
            log_entries.c.log_index, log_entries.c.leaf_hash, events.c.originator_id,
            events.c.originator_version, events.c.topic, events.c.state,
        ).join(events, (events.c.originator_id == log_entries.c.originator_id)
               & (events.c.originator_version == log_entries.c.originator_version))

    def _entry_of(self, row: Any) -> dict[str, Any]:
        """The entry a stored ``Recorded`` event holds. Decoded straight from its state when
        the mapper would do no more than decode it (no cipher, no compressor, stored at the
        event class's current version: nothing to upcast); through the mapper otherwise."""
        state = bytes(row.state)
        mapper = self.mapper
        event_class = _RECORDED.get(row.topic)
        if event_class is not None and mapper.cipher is None and mapper.compressor is None:
            event_state = mapper.transcoder.decode(state)
            if "class_version" not in event_state and getattr(event_class, "class_version", 1) == 1:
                return event_state["entry"]  # type: ignore[no-any-return]
        stored = StoredEvent(row.originator_id, row.originator_version, row.topic, state)
        return self.mapper.to_domain_event(stored).entry  # type: ignore[attr-defined,no-any-return]

    def _signed_receipt(self, append: LogAppend) -> Receipt:
        return self._sign_receipts([append])()[0]

    def _sign_receipts(self, appends: list[LogAppend],
                       signatures: signature_pool.Batch | None = None) -> Callable[[], list[Receipt]]:
        """Start signing the receipts of indexed entries with the operator key (on the
        batch's workers, where it has them); call the result for the receipts."""
        bodies = [self._receipt_body(append) for append in appends]
        messages = [canonical_bytes(body) for body in bodies]
        key = self.settings.operator_key
        signing = signatures.sign(key, messages) if signatures is not None else None

        def receipts() -> list[Receipt]:
            raw = signing.result() if signing is not None else [key.sign(m) for m in messages]
            return [Receipt(**body, signature=b64encode(signature)) for body, signature in zip(bodies, raw)]

        return receipts

    def _receipt_body(self, append: LogAppend) -> dict[str, Any]:
        """What the receipt of a written entry signs (``Receipt.body``)."""
        if append.log_index is None or append.leaf_hash is None:
            raise RuntimeError("the log entry was not assigned an index")  # cannot happen after save
        body = append.body
        refusal = body["refusal"]
        return {
            "envelope_id": body["envelope"]["payload"]["envelope_id"],
            "verdict": body["verdict"],
            "refusal": None if refusal is None else dict(refusal),
            "recorded_at": body["recorded_at"],
            "log_index": append.log_index,
            "leaf_hash": append.leaf_hash.hex(),
            "key_id": self._operator_key_id,
        }

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
                    self._commit(self._prepare([envelope]))
            except (IntegrityError, OperationalError, _Duplicate):
                pass  # another process initialised it at the same moment
            self._registry = None
            registry = self.registry()
        try:
            registry.state.signing_key(OPERATOR, key_id_for(operator_public))
        except (UnknownParty, InvalidSubmission) as exc:
            raise SettingsError("the configured operator key is not a live operator key of this ledger") from exc


@dataclass
class _Prepared:
    """A batch decided in memory: the aggregates holding its new entries, and the log rows."""

    aggregates: dict[uuid.UUID, Dossier | Registry]
    appends: list[LogAppend]


class _Duplicate(Exception):
    """An envelope_id already recorded (or twice in one batch): handle one at a time."""


class _BadSignature(Exception):
    """A batch envelope's signature failed its check while the batch was being written."""


def genesis_payload(operator_public: bytes) -> dict[str, Any]:
    return {
        "envelope_id": str(uuid.uuid5(GENESIS_NAMESPACE, operator_public.hex())),
        "type": "PartyRegistered",
        "occurred_on": recording_date(now_utc()).isoformat(),
        "party_id": OPERATOR,
        "role": "operator",
        "public_key": b64encode(operator_public),
    }


def _engine_url(url: str) -> str:
    if url.startswith("sqlite") and "timeout=" not in url:
        return url + ("&" if "?" in url else "?") + "timeout=60"
    return url


def _tune_sqlite(engine: Engine) -> None:
    """WAL with synchronous=NORMAL: durable across process crashes, fast commits."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()
