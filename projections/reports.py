"""Replay, flags and payments as tables (for text and CSV) and as JSON documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.payments import ContractPayment
from projections.render import Table
from projections.replay import Counts, FlaggedClaim, RateRow, Replay


def _percent(counts: Counts) -> str:
    rate = counts.rate
    shown = "-" if rate is None else f"{rate:.1%}"
    return f"{shown} ({counts.success}/{counts.failure}/{counts.pending})"


def _known(replay: Replay) -> str:
    return replay.as_known_at or "everything recorded"


def rates_table(replay: Replay, by: str, compact: bool) -> Table:
    """compact (text): one 'rate (success/failure/pending)' cell per definition;
    otherwise (CSV): four columns per definition, the rate a fraction of the decided."""
    rows: list[RateRow] = replay.rates(by)
    title = f"Outflow by {by} - peildatum {replay.peildatum}, as known at {_known(replay)}"
    if compact:
        columns = [by, "trajectories"] + [f"{n} rate (s/f/p)" for n in replay.names]
        return Table(title, columns,
                     [[r.group, r.trajectories, *(_percent(r.counts[n]) for n in replay.names)] for r in rows])
    columns = [by, "trajectories"]
    for n in replay.names:
        columns += [f"{n}:success", f"{n}:failure", f"{n}:pending", f"{n}:rate"]
    table_rows = []
    for r in rows:
        cells: list[Any] = [r.group, r.trajectories]
        for n in replay.names:
            c = r.counts[n]
            cells += [c.success, c.failure, c.pending, c.rate]
        table_rows.append(cells)
    return Table(title, columns, table_rows)


def differences_table(replay: Replay) -> Table:
    columns = ["trajectory_id", "funder", "provider", "cohort", "contract_definition", *replay.names]
    rows = [
        [r.trajectory_id, r.funder, r.provider, r.cohort, r.contract_definition]
        + [f"{r.verdicts[n].outcome}: {r.verdicts[n].reason}" for n in replay.names]
        for r in replay.differences()
    ]
    return Table(f"Trajectories judged differently ({len(rows)})", columns, rows)


def replay_document(replay: Replay, by: str) -> dict[str, Any]:
    return {
        "peildatum": replay.peildatum.isoformat(),
        "as_known_at": replay.as_known_at,
        "by": by,
        "definitions": [{"name": d.name, "version": d.version, "summary": d.summary} for d in replay.definitions],
        "rates": [
            {"group": r.group, "trajectories": r.trajectories,
             "outcomes": {n: {"success": c.success, "failure": c.failure, "pending": c.pending, "rate": c.rate}
                          for n, c in r.counts.items()}}
            for r in replay.rates(by)
        ],
        "differences": [
            {"trajectory_id": r.trajectory_id, "client_ref": r.client_ref, "funder": r.funder, "provider": r.provider,
             "cohort": r.cohort, "contract_definition": r.contract_definition,
             "verdicts": {n: r.verdicts[n].as_dict() for n in replay.names}}
            for r in replay.differences()
        ],
    }


FLAG_COLUMNS = ["claim_id", "trajectory_id", "client_ref", "funder", "provider", "employer_kvk", "job_start",
                "status", "flag", "detail"]


def flags_table(listing: Sequence[FlaggedClaim], title: str) -> Table:
    return Table(title, FLAG_COLUMNS, [[getattr(f, c) for c in FLAG_COLUMNS] for f in listing])


def flags_document(listing: Sequence[FlaggedClaim], peildatum: str | None, as_known_at: str | None) -> dict[str, Any]:
    return {"peildatum": peildatum, "as_known_at": as_known_at,
            "flags": [{c: getattr(f, c) for c in FLAG_COLUMNS} for f in listing]}


def payments_table(rows: Sequence[ContractPayment], compare: Sequence[str], title: str) -> Table:
    columns = ["funder", "provider", "contract", "definition", "trajectories", "owed_cents", "pending_cents",
               "unjudged", "cooperation_cents"] + [f"owed_if:{n}" for n in compare]
    return Table(title, columns, [
        [r.funder, r.provider, r.contract, r.definition, r.trajectories, r.owed_cents, r.pending_cents, r.unjudged,
         r.cooperation_cents]
        + [r.owed_if[n] for n in compare]
        for r in rows
    ])


def payments_document(rows: Sequence[ContractPayment], peildatum: str, as_known_at: str | None) -> dict[str, Any]:
    return {"peildatum": peildatum, "as_known_at": as_known_at, "contracts": [
        {"funder": r.funder, "provider": r.provider, "contract": r.contract, "definition": r.definition,
         "trajectories": r.trajectories, "owed_cents": r.owed_cents, "pending_cents": r.pending_cents,
         "unjudged": r.unjudged, "cooperation_cents": r.cooperation_cents, "owed_if": dict(r.owed_if)}
        for r in rows
    ]}
