"""Submitting many envelopes at once: the same check -> decide -> record as one envelope,
with the Ed25519 work spread over worker processes.

1. Check: each envelope is parsed and its submitter's key found here; its signature check
   is streamed to the workers at once, so they verify while the rest is parsed.
2. Decide: the whole batch, in memory, against the dossiers it touches (their locks held).
3. Record: one transaction, with one checkpoint signed for the whole batch (every receipt
   is an inclusion proof against it). On workers it is written while they still check, and its
   guard commits only if every signature held; if one failed, nothing was stored and the
   batch is decided and written again without the bad envelopes.
Any conflict (another writer moved a dossier or the registry, an envelope_id recorded
before) falls back to recording the envelopes one at a time, each with its retries.
"""

from __future__ import annotations

from binascii import a2b_base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.domain.canonical import canonical_bytes
from ledger.domain.envelope import Envelope, signature_fails
from ledger.domain.errors import InvalidSubmission
from ledger.domain.receipt import Receipt
from ledger.infra.ed25519_pool import Batch
from ledger.receipt_signing import BadSignature, BatchCheckpoint

if TYPE_CHECKING:
    from ledger.application import Ledger

Result = Receipt | InvalidSubmission


@dataclass
class Checked:
    """The envelopes that passed parsing, with their positions and canonical payloads."""

    positions: list[int] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    texts: list[bytes] = field(default_factory=list)  # the signed messages


def submit_batch(ledger: Ledger, items: Sequence[Any]) -> list[Result]:
    """One result per item, in order (see the module's docstring)."""
    results: list[Result | None] = [None] * len(items)
    with ledger.signatures(len(items)) as signatures:
        checked = _check(ledger, items, signatures, results)
        held = signatures.results  # one bool per checked envelope (waits for the workers)
        try:
            with ledger.holding(checked.envelopes):
                receipts = _record(ledger, checked, signatures)
            signed = iter(receipts)
            for position, ok in zip(checked.positions, held()):
                results[position] = next(signed) if ok else signature_fails()
        except ledger.CONFLICTS:
            ledger.forget(checked.envelopes)
            for position, envelope, text, ok in zip(checked.positions, checked.envelopes, checked.texts, held()):
                try:
                    results[position] = ledger.record(envelope, text) if ok else signature_fails()
                except InvalidSubmission as exc:
                    results[position] = exc
    return [r for r in results if r is not None]


def _check(ledger: Ledger, items: Sequence[Any], signatures: Batch, results: list[Result | None]) -> Checked:
    """Parse each item and stream its signature check; an unparseable one gets its error."""
    checked = Checked()
    for position, data in enumerate(items):
        try:
            envelope = ledger.parsed(data)
            text = canonical_bytes(envelope.payload)
            # the signature's base64 was checked by ``parsed`` (64 bytes, strict): decoded without the checks again
            signatures.check((ledger.signing_key(envelope), a2b_base64(envelope.signature), text))
        except InvalidSubmission as exc:
            results[position] = exc
            continue
        checked.positions.append(position)
        checked.envelopes.append(envelope)
        checked.texts.append(text)
    return checked


def _record(ledger: Ledger, checked: Checked, signatures: Batch) -> list[Receipt]:
    """Decide and write the batch; one receipt per envelope whose signature held."""
    if signatures.parallel:  # write while the workers check; commit only if every signature held
        guard = BatchCheckpoint(ledger.transparency, signatures, awaiting_checks=True)
        try:
            ledger.write(ledger.decide(checked.envelopes, checked.texts), guard)
            return guard.receipts
        except BadSignature:
            pass
    good = [(e, t) for e, t, ok in zip(checked.envelopes, checked.texts, signatures.results()) if ok]
    guard = BatchCheckpoint(ledger.transparency, signatures)
    ledger.write(ledger.decide([e for e, _ in good], [t for _, t in good]), guard)
    return guard.receipts
