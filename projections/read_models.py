"""The read models in SQL, kept current from the entry sequence, exactly once.

One batch is one transaction: it first moves the cursor from the position it read to the
batch's last log index (``UPDATE ... WHERE last_log_index = <read>``), then rewrites the
rows of every client the batch changed. A second runner working on the same batch finds
the cursor moved, rolls back and carries on from the new position; a crash loses the
whole batch or nothing. This works the same on SQLite (one writer) and PostgreSQL (the
row lock on the cursor), in one process or many. Between its batches a runner keeps the
dossiers it wrote (``kept_dossiers``) instead of reading them back, for as long as the
cursor shows that no one else wrote since.

The runner takes an ``Engine`` (``Ledger.engine``) and opens nothing at import time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from ledger.domain.dossier.state import DossierState
from ledger.domain.entry import ACCEPTED
from projections.definitions.base import Definition
from projections.definitions.facts import FACTS_VERSION
from projections.definitions.registry import DefinitionRegistry
from projections.errors import ProjectionError
from projections.evaluation import (
    Orders,
    Step,
    TrajectoryResult,
    collector_paused,
    decide_all,
    evaluate,
    judge_all,
)
from projections.history import apply_entry, dossier_payload
from projections.kept_dossiers import KEPT_DOSSIERS, KeptDossiers
from projections.rows import (
    FACT_COLUMNS,
    benefit_rows,
    claim_rows,
    dossier_from_json,
    dossier_json,
    facts_from_row,
    facts_rows,
    flag_rows,
    refusal_row,
    trajectory_rows,
)
from projections.source import Entry, EntrySource, checked_page
from projections.tables import (
    ALL,
    PER_CLIENT,
    projection_benefits,
    projection_claim_flags,
    projection_claims,
    projection_cursor,
    projection_dossiers,
    projection_facts,
    projection_refusals,
    projection_trajectories,
)

CURSOR = "read-models"
CHANGED_LIMIT = 20_000  # entries since: beyond, ``changed_since`` says to compute everything again
IN_CHUNK = 500  # bound parameters per IN (...) list

_PER_CLIENT_TABLES = (projection_dossiers, *PER_CLIENT)
_DELETE_CLIENTS = tuple(
    delete(table).where(table.c.client_ref.in_(bindparam("clients", expanding=True))) for table in _PER_CLIENT_TABLES
)
_SELECT_DOSSIERS = select(projection_dossiers.c.client_ref, projection_dossiers.c.state).where(
    projection_dossiers.c.client_ref.in_(bindparam("clients", expanding=True))
)


class _LostRace(Exception):
    """Another runner moved the cursor first; this batch is rolled back."""


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), IN_CHUNK):
        yield items[i:i + IN_CHUNK]


class ReadModels:
    def __init__(self, engine: Engine, batch_size: int = 2000, kept_dossiers: int = KEPT_DOSSIERS) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self.kept_dossiers = kept_dossiers

    # --- position -------------------------------------------------------------------

    def last_applied(self) -> int:
        """The last log index applied (-1 when none)."""
        with self.engine.connect() as connection:
            value = connection.execute(
                select(projection_cursor.c.last_log_index).where(projection_cursor.c.name == CURSOR)
            ).scalar()
        if value is None:
            raise ProjectionError("the read-model tables are missing: run the migrations", field="projection_cursor")
        return int(value)

    # --- following the log ------------------------------------------------------------

    def catch_up(self, source: EntrySource) -> int:
        """Apply every entry the source has beyond the cursor; return how many this call applied."""
        applied = 0
        written = KeptDossiers(self.kept_dossiers)
        while True:
            with collector_paused():  # a page's entries all live until it is written (see there)
                last = self.last_applied()
                page = checked_page(source.entries(last + 1, self.batch_size), last + 1)
                if not page:
                    return applied
                if self.apply(page, last, written):
                    applied += len(page)

    def apply(self, page: Sequence[Entry], last: int, written: KeptDossiers | None = None) -> bool:
        """Apply one page that follows ``last``, in one transaction (see the module note).
        False, with nothing written, when another runner has moved the cursor from ``last``.
        ``written``: the dossiers this runner kept from its previous batches, if any."""
        if written is None:
            written = KeptDossiers(0)
        try:
            with self.engine.begin() as connection:
                moved = connection.execute(
                    update(projection_cursor)
                    .where(projection_cursor.c.name == CURSOR, projection_cursor.c.last_log_index == last)
                    .values(last_log_index=page[-1][0])
                )
                if moved.rowcount != 1:
                    raise _LostRace()
                touched = _touched(page)
                states = written.take(last, touched)
                states.update(_load(connection, [client for client in touched if client not in states]))
                self._write(connection, page, states)
        except _LostRace:
            return False
        written.put(page[-1][0], states)
        return True

    def _write(self, connection: Connection, page: Sequence[Entry], states: dict[str, DossierState]) -> None:
        """Apply the page to ``states`` (the stored dossiers of the clients it concerns; none
        for a new client) and write the rows of every client it changed."""
        stored = set(states)  # the clients with rows already; the others have none
        changed: dict[str, int] = {}
        refusals = []
        for log_index, body in page:
            client = apply_entry(states, log_index, body)
            if body["verdict"] != ACCEPTED:
                refusals.append(refusal_row(log_index, body))
            elif client is not None:  # registry entries change no dossier
                changed[client] = log_index
        _replace_clients(connection, {c: states[c] for c in changed}, changed, [c for c in changed if c in stored])
        if refusals:
            connection.execute(insert(projection_refusals), refusals)

    # --- from scratch ---------------------------------------------------------------------

    def reset(self) -> None:
        """Empty every read model and move the cursor back to the start (one transaction)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(projection_cursor).where(projection_cursor.c.name == CURSOR).values(last_log_index=-1)
            )
            for table in ALL:
                connection.execute(delete(table))

    def rebuild(self, source: EntrySource) -> int:
        self.reset()
        return self.catch_up(source)

    # --- reading ------------------------------------------------------------------------

    def dossiers(self, clients: Sequence[str] | None = None) -> Iterator[tuple[str, DossierState]]:
        """Every dossier as the read models hold it (or only those of ``clients``), in client_ref
        order (streamed)."""
        if clients is not None:
            with self.engine.connect() as connection:
                found = _load(connection, sorted(clients))
            yield from sorted(found.items())
            return
        query = select(projection_dossiers.c.client_ref, projection_dossiers.c.state).order_by(
            projection_dossiers.c.client_ref
        )
        with self.engine.connect() as connection:
            for client, state in connection.execution_options(yield_per=5000).execute(query):
                yield client, dossier_from_json(state)

    def changed_since(self, source: EntrySource, last: int, limit: int = CHANGED_LIMIT) -> tuple[int, list[str] | None]:
        """The cursor, and the clients whose dossiers the entries after log index ``last`` up to
        it concern, read from ``source`` (in client_ref order); None instead when more than
        ``limit`` entries came since (then computing everything again costs less)."""
        at = self.last_applied()
        if at - last > limit:
            return at, None
        touched: set[str] = set()
        start = last + 1
        while start <= at:
            page = checked_page(source.entries(start, min(self.batch_size, at + 1 - start)), start)
            if not page:
                raise ProjectionError(f"the log holds no entry {start}, which the read models applied", field="log_index")
            touched.update(_touched(page))
            start = page[-1][0] + 1
        return at, sorted(touched)

    def dossier(self, client_ref: str) -> DossierState | None:
        with self.engine.connect() as connection:
            return _load(connection, [client_ref]).get(client_ref)

    def evaluate(
        self, definitions: Sequence[Definition], peildatum: date, registry: DefinitionRegistry | None = None,
        clients: Sequence[str] | None = None,
    ) -> list[TrajectoryResult]:
        """``evaluation.evaluate`` over every dossier the read models hold (or only those of
        ``clients``): the same results in the same order. Definitions that decide on facts (the
        built-in ones) read one compact ``projection_facts`` row per trajectory; a dossier is
        loaded only for a trajectory that a plugin must judge (chosen, or named by its contract)."""
        with self.engine.connect() as connection:
            stale = 0
            for chunk in [None] if clients is None else _chunks(sorted(clients)):
                query = select(func.count()).select_from(projection_facts).where(
                    projection_facts.c.facts_version != FACTS_VERSION)
                if chunk is not None:
                    query = query.where(projection_facts.c.client_ref.in_(chunk))
                stale += connection.execute(query).scalar_one()
        if stale:  # extracted by another version of the facts: judge the dossiers instead
            return evaluate(self.dossiers(clients), definitions, peildatum, registry)
        orders = Orders(definitions, registry)
        with collector_paused():
            if clients is None:
                return list(self._evaluate_facts(orders, peildatum))
            return [r for chunk in _chunks(sorted(clients)) for r in self._evaluate_facts(orders, peildatum, chunk)]

    def _evaluate_facts(self, orders: Orders, peildatum: date,
                        clients: Sequence[str] | None = None) -> Iterator[TrajectoryResult]:
        c = projection_facts.c
        n = len(FACT_COLUMNS)  # the facts first (trajectory_id, provider, start, ...), then the rest
        p = peildatum.isoformat()
        query = (
            select(*(c[name] for name in FACT_COLUMNS), c.client_ref, c.funder, c.contract, c.definition,
                   c.fee_cents, c.base_fee_cents)
            .where(c.start <= p)
            .order_by(c.client_ref, c.seq)
        )
        if clients is not None:
            query = query.where(c.client_ref.in_(clients))
        plans: dict[str, tuple[list[Step], bool]] = {}
        loaded: tuple[str, DossierState | None] = ("", None)
        with self.engine.connect() as connection:
            for row in connection.execution_options(yield_per=5000).execute(query):
                facts = facts_from_row(row)
                client, funder, contract, definition, fee, base_fee = row[n:]
                plan = plans.get(definition)
                if plan is None:
                    plan = plans[definition] = (orders(definition), orders.needs_dossier(definition))
                if plan[1]:
                    if loaded[0] != client:
                        loaded = (client, self.dossier(client))
                    verdicts = judge_all(loaded[1], facts.trajectory_id, peildatum, plan[0], facts)
                else:
                    verdicts = decide_all(facts, p, plan[0])
                yield TrajectoryResult(facts.trajectory_id, client, funder, facts.provider, facts.start, contract,
                                       definition, fee, base_fee, verdicts)


def _touched(page: Sequence[Entry]) -> list[str]:
    """The clients whose dossiers the page concerns, in order of first mention."""
    return list(dict.fromkeys(p["client_ref"] for _, body in page if (p := dossier_payload(body)) is not None))


def _load(connection: Connection, clients: Sequence[str]) -> dict[str, DossierState]:
    states: dict[str, DossierState] = {}
    for chunk in _chunks(clients):
        for client, state in connection.execute(_SELECT_DOSSIERS, {"clients": chunk}):
            states[client] = dossier_from_json(state)
    return states


def _replace_clients(
    connection: Connection, states: dict[str, DossierState], last_index: dict[str, int], stored: Sequence[str]
) -> None:
    """Write the rows of ``states``, first deleting those of the ``stored`` clients (the
    others have no rows: a client's rows are only ever written together with its dossier)."""
    for chunk in _chunks(stored):
        for statement in _DELETE_CLIENTS:
            connection.execute(statement, {"clients": chunk})
    rows: dict[Any, list[dict[str, Any]]] = {table: [] for table in _PER_CLIENT_TABLES}
    for client, dossier in states.items():
        rows[projection_dossiers].append(
            {"client_ref": client, "state": dossier_json(dossier), "last_log_index": last_index[client]}
        )
        rows[projection_trajectories].extend(trajectory_rows(client, dossier))
        rows[projection_facts].extend(facts_rows(client, dossier))
        rows[projection_claims].extend(claim_rows(client, dossier))
        rows[projection_claim_flags].extend(flag_rows(client, dossier))
        rows[projection_benefits].extend(benefit_rows(client, dossier))
    for table, values in rows.items():
        if values:
            connection.execute(insert(table), values)


def write_dossiers(engine: Engine, dossiers: Iterable[tuple[str, DossierState]], last_log_index: int) -> None:
    """Write dossiers' rows directly, without entries (for benchmarks at scale only)."""
    with engine.begin() as connection:
        states = dict(dossiers)
        _replace_clients(connection, states, {client: last_log_index for client in states}, list(states))
