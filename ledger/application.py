"""The ledger application: ``submit(envelope) -> Receipt`` on eventsourcing + SQLAlchemy.

Flow (DESIGN.md): parse -> verify the signature against the submitter's unrevoked key ->
idempotency by envelope_id -> load the aggregate -> decide (pure) -> record the entry,
accepted or refused -> append to the log in the same transaction -> signed receipt.

Concurrent submitters on one dossier are serialised by optimistic concurrency: the
aggregate's (id, version) is unique in the event store, so the loser of a race gets an
IntegrityError, reloads, and decides again against the winner's entry.
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any, Iterable, Sequence

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.utils import Environment
from sqlalchemy import Engine, event, func, select

from ledger.aggregates import REGISTRY_ID, Dossier, EnvelopeIndex, Registry, dossier_id, envelope_index_id
from ledger.dossier.rules import Context, decide
from ledger.entry import ACCEPTED, REFUSED, entry_body, now_utc, recording_date
from ledger.envelope import (
    Envelope,
    b64encode,
    key_id_for,
    parse_envelope,
    public_key_bytes,
    sign,
    verify_signature,
)
from ledger.errors import IdempotencyConflict, InvalidSubmission, LedgerError, Refusal, UnknownParty
from ledger.identity import client_ref
from ledger.payloads import is_registry_type, validate_payload
from ledger.receipt import Receipt, sign_receipt
from ledger.registry.state import OPERATOR, RegistryState, decide_registry
from ledger.settings import Settings, SettingsError
from ledger.storage.log_append import LogAppend, StaleRegistry
from ledger.storage.migrate import upgrade
from ledger.storage.recorder import LedgerFactory
from ledger.storage.tables import log_entries

MAX_ATTEMPTS = 50
GENESIS_NAMESPACE = uuid.UUID("0b5e1a9c-2f4d-4e6b-8a7c-1d2e3f4a5b6c")


class LedgerBusy(LedgerError):
    rule = "ledger.busy"


class Ledger(Application[uuid.UUID]):
    name = "trajectledger"
    snapshotting_intervals = {Dossier: 50, Registry: 50}

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__(env={"SQLALCHEMY_URL": _engine_url(settings.database_url)})
        _tune_sqlite(self.engine)
        upgrade(self.engine)
        self._registry: Registry | None = None
        self.initialise()

    # --- composition -------------------------------------------------------------

    def construct_env(self, name: str, env: Any = None) -> Environment:
        """Only the settings given, never the process environment."""
        values = {"IS_SNAPSHOTTING_ENABLED": "y", **dict(env or {})}
        return Environment(name, values)

    def construct_factory(self, env: Environment) -> LedgerFactory:
        return LedgerFactory(env)

    def close(self) -> None:
        """Release the database connections."""
        super().close()
        self.engine.dispose()

    @property
    def engine(self) -> Engine:
        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        assert engine is not None  # the factory always builds one from the URL
        return engine

    # --- public API ----------------------------------------------------------------

    def pseudonym(self, bsn: str) -> str:
        """client_ref for a BSN (which is checked, used, and never stored)."""
        return client_ref(self.settings.pseudonym_key, bsn)

    def registry(self) -> Registry:
        """The current registry (cached, fast-forwarded from the store)."""
        if self._registry is None:
            self._registry = self.repository.get(REGISTRY_ID)
        else:
            for domain_event in self.events.get(REGISTRY_ID, gt=self._registry.version):
                domain_event.mutate(self._registry)
        return self._registry

    def submit(self, data: Any) -> Receipt:
        """Record one signed envelope. Raises ``InvalidSubmission`` when nothing is
        recorded; otherwise returns the receipt, whose verdict may be 'refused'."""
        envelope = parse_envelope(data)
        validate_payload(envelope.payload)
        verify_signature(envelope, self.registry().state.signing_key(envelope.submitter, envelope.key_id))
        return self._record_with_retry(envelope)

    def submit_batch(self, items: Sequence[Any]) -> list[Receipt | InvalidSubmission]:
        """Many envelopes, one result each, in order. Valid ones are recorded in as few
        transactions as possible; a conflict falls back to one at a time."""
        results: list[Receipt | InvalidSubmission | None] = [None] * len(items)
        checked: list[tuple[int, Envelope]] = []
        registry = self.registry()
        for i, data in enumerate(items):
            try:
                envelope = parse_envelope(data)
                validate_payload(envelope.payload)
                verify_signature(envelope, registry.state.signing_key(envelope.submitter, envelope.key_id))
                checked.append((i, envelope))
            except InvalidSubmission as exc:
                results[i] = exc
        try:
            for (i, _), receipt in zip(checked, self._record_together([e for _, e in checked])):
                results[i] = receipt
        except (IntegrityError, OperationalError, StaleRegistry, IdempotencyConflict, _Duplicate):
            for i, envelope in checked:
                try:
                    results[i] = self._record_with_retry(envelope)
                except InvalidSubmission as exc:
                    results[i] = exc
        return [r for r in results if r is not None]

    def receipt(self, envelope_id: str) -> Receipt | None:
        """The receipt of an envelope recorded earlier, or None."""
        try:
            index = self.repository.get(envelope_index_id(envelope_id))
        except AggregateNotFoundError:
            return None
        return self._receipt(index)

    def entries(self, start: int = 0, limit: int = 1000) -> list[tuple[int, dict[str, Any]]]:
        """Recorded entries in log order from ``start``: (log_index, entry body), where the
        body is {envelope, verdict, refusal, recorded_at}. Read from the event store itself,
        so a byte changed in a stored event shows up here (and fails verification)."""
        events_table = self.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        query = (
            select(log_entries.c.log_index, events_table.c.originator_id, events_table.c.originator_version,
                   events_table.c.topic, events_table.c.state)
            .join(events_table, (events_table.c.originator_id == log_entries.c.originator_id)
                  & (events_table.c.originator_version == log_entries.c.originator_version))
            .where(log_entries.c.log_index >= start)
            .order_by(log_entries.c.log_index)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        result = []
        for row in rows:
            stored = StoredEvent(row.originator_id, row.originator_version, row.topic, bytes(row.state))
            result.append((row.log_index, self.mapper.to_domain_event(stored).entry))  # type: ignore[attr-defined]
        return result

    def log_size(self) -> int:
        with self.engine.connect() as connection:
            last = connection.execute(select(func.max(log_entries.c.log_index))).scalar()
        return 0 if last is None else last + 1

    # --- recording -------------------------------------------------------------------

    def _record_with_retry(self, envelope: Envelope) -> Receipt:
        digest = envelope.payload_digest()
        for attempt in range(MAX_ATTEMPTS):
            try:
                previous = self.receipt_if_same(envelope.envelope_id, digest)
                if previous is not None:
                    return previous
                registry = self.registry()
                registry.state.signing_key(envelope.submitter, envelope.key_id)  # revoked meanwhile?
                return self._record_together([envelope])[0]
            except (IntegrityError, StaleRegistry, OperationalError, _Duplicate):
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise LedgerBusy(f"gave up after {MAX_ATTEMPTS} attempts under contention", field="payload.client_ref")

    def receipt_if_same(self, envelope_id: str, digest: str) -> Receipt | None:
        try:
            index = self.repository.get(envelope_index_id(envelope_id))
        except AggregateNotFoundError:
            return None
        if index.digest != digest:
            raise IdempotencyConflict(
                "this envelope_id was used before for a different payload", field="payload.envelope_id"
            )
        return self._receipt(index)

    def _record_together(self, envelopes: Iterable[Envelope]) -> list[Receipt]:
        try:
            registry = self.registry()
            parties, registry_version = registry.state, registry.version
        except AggregateNotFoundError:  # only before the genesis entry
            parties, registry_version = RegistryState(), 0
        aggregates: dict[uuid.UUID, Dossier | Registry] = {}
        appends: list[LogAppend] = []
        indexes: list[EnvelopeIndex] = []
        seen: set[str] = set()
        for envelope in envelopes:
            if envelope.envelope_id in seen or self._is_indexed(envelope.envelope_id):
                raise _Duplicate(envelope.envelope_id)
            seen.add(envelope.envelope_id)
            target = self._target(envelope.payload, aggregates)
            recorded_at = now_utc()
            verdict, refusal = ACCEPTED, None
            try:
                self._decide(target, envelope, parties, recorded_at)
            except Refusal as exc:
                verdict, refusal = REFUSED, exc.as_dict()
            body = entry_body(envelope.as_dict(), verdict, refusal, recorded_at)
            target.record(entry=body)
            indexes.append(EnvelopeIndex(envelope.envelope_id, envelope.payload_digest(), target.id, target.version))
            appends.append(LogAppend(target.id, target.version, body, REGISTRY_ID, registry_version))
        self.save(*aggregates.values(), *indexes, log_appends=appends)
        if any(a.originator_id == REGISTRY_ID for a in appends):
            self._registry = None  # re-read: the cached one may not have seen the change
        return [self._signed_receipt(a) for a in appends]

    def _target(self, payload: dict[str, Any], loaded: dict[uuid.UUID, Dossier | Registry]) -> Dossier | Registry:
        key = REGISTRY_ID if is_registry_type(payload["type"]) else dossier_id(payload["client_ref"])
        if key not in loaded:
            try:
                loaded[key] = self.repository.get(key)
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

    def _is_indexed(self, envelope_id: str) -> bool:
        try:
            self.repository.get(envelope_index_id(envelope_id))
        except AggregateNotFoundError:
            return False
        return True

    # --- receipts ----------------------------------------------------------------------

    def _signed_receipt(self, append: LogAppend) -> Receipt:
        assert append.log_index is not None and append.leaf_hash is not None  # filled on commit
        body = append.body
        return sign_receipt(
            Receipt(
                envelope_id=body["envelope"]["payload"]["envelope_id"],
                verdict=body["verdict"],
                refusal=body["refusal"],
                recorded_at=body["recorded_at"],
                log_index=append.log_index,
                leaf_hash=append.leaf_hash.hex(),
                aggregate_id=str(append.originator_id),
                aggregate_version=append.originator_version,
            ),
            self.settings.operator_key,
        )

    def _receipt(self, index: EnvelopeIndex) -> Receipt:
        recorded = list(self.events.get(index.target_id, gt=index.target_version - 1, lte=index.target_version))
        with self.engine.connect() as connection:
            row = connection.execute(
                select(log_entries.c.log_index, log_entries.c.leaf_hash).where(
                    log_entries.c.envelope_id == index.envelope_id
                )
            ).one()
        append = LogAppend(index.target_id, index.target_version, recorded[0].entry, REGISTRY_ID, 0)  # type: ignore[attr-defined]
        append.log_index, append.leaf_hash = row.log_index, bytes(row.leaf_hash)
        return self._signed_receipt(append)

    # --- genesis -----------------------------------------------------------------------

    def initialise(self) -> None:
        """Record the genesis entry (the operator registering its own key) once, and
        refuse to run with an operator key the ledger does not know."""
        operator_public = public_key_bytes(self.settings.operator_key)
        try:
            registry = self.registry()
        except AggregateNotFoundError:
            self._registry = None
            payload = genesis_payload(operator_public)
            envelope = sign(payload, OPERATOR, self.settings.operator_key)
            try:
                self._record_together([envelope])
            except (IntegrityError, OperationalError, _Duplicate):
                pass  # another process initialised it at the same moment
            self._registry = None
            registry = self.registry()
        try:
            registry.state.signing_key(OPERATOR, key_id_for(operator_public))
        except (UnknownParty, InvalidSubmission) as exc:
            raise SettingsError("the configured operator key is not a live operator key of this ledger") from exc


class _Duplicate(Exception):
    """An envelope_id already recorded (or twice in one batch): handle one at a time."""


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
