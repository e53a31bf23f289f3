"""Dossiers as known at a moment: fold recorded entries, ignoring those recorded later.

History is bitemporal. ``as_known_at`` cuts on the ledger's ``recorded_at`` (transaction
time); the definitions cut on the facts' own dates against the peildatum (valid time).
Only accepted dossier entries change a dossier, through ``ledger.domain.dossier.state.evolve``:
the same state machine the ledger's aggregate uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from ledger.domain.dossier.state import DossierState, evolve
from ledger.domain.entry import ACCEPTED, LEDGER_TZ
from ledger.domain.payloads import DOSSIER_TYPES
from projections.errors import InconsistentHistory
from projections.source import Entry, EntrySource, iter_entries

RECORDED_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def known_at_instant(moment: datetime) -> str:
    """The cut-off for an instant, in ``recorded_at``'s own format (compares as text)."""
    if moment.tzinfo is None:
        raise ValueError("an as-known-at instant needs a time zone (e.g. 'Z')")
    return moment.astimezone(UTC).strftime(RECORDED_AT_FORMAT)


def known_at_end_of(day: date) -> str:
    """The cut-off for a date: the last microsecond of that day in the Netherlands."""
    return known_at_instant(datetime.combine(day, time.max, tzinfo=LEDGER_TZ))


def parse_known_at(text: str) -> str:
    """``YYYY-MM-DD`` (the end of that Dutch day) or an ISO 8601 instant with a zone."""
    if len(text) == 10:
        return known_at_end_of(date.fromisoformat(text))
    return known_at_instant(datetime.fromisoformat(text))


def known_at_day(cutoff: str) -> date:
    """The Dutch calendar day of a cut-off (the default peildatum for it)."""
    moment = datetime.strptime(cutoff, RECORDED_AT_FORMAT).replace(tzinfo=UTC)
    return moment.astimezone(LEDGER_TZ).date()


def dossier_payload(body: dict[str, Any]) -> dict[str, Any] | None:
    """The payload if the entry belongs to a client dossier (registry entries do not)."""
    payload: dict[str, Any] = body["envelope"]["payload"]
    return payload if payload["type"] in DOSSIER_TYPES else None


def apply_entry(dossiers: dict[str, DossierState], log_index: int, body: dict[str, Any]) -> str | None:
    """Apply one entry; return the client_ref it concerns (None for registry entries).
    Refused entries concern a client but change nothing."""
    payload = dossier_payload(body)
    if payload is None:
        return None
    client = str(payload["client_ref"])
    if body["verdict"] != ACCEPTED:
        return client
    state = dossiers.get(client)
    if state is None:
        state = dossiers[client] = DossierState()
    try:
        evolve(state, payload, body["envelope"]["submitter"], body["recorded_at"])
    except KeyError as exc:
        raise InconsistentHistory(
            f"accepted entry {log_index} ({payload['type']}) refers to {exc} which the dossier does not hold",
            field=f"log_index {log_index}",
        ) from exc
    return client


def fold(entries: Iterable[Entry], known_at: str | None = None) -> dict[str, DossierState]:
    """Dossiers per client_ref from entries, leaving out those recorded after ``known_at``."""
    dossiers: dict[str, DossierState] = {}
    for log_index, body in entries:
        if known_at is not None and body["recorded_at"] > known_at:
            continue
        apply_entry(dossiers, log_index, body)
    return dossiers


def dossiers_as_known_at(
    source: EntrySource, known_at: str | None = None, page_size: int = 2000
) -> dict[str, DossierState]:
    """Every dossier as the ledger knew it at ``known_at`` (None: everything recorded)."""
    return fold(iter_entries(source, 0, page_size), known_at)
