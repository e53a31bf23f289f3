"""A synthetic history fed to a real ledger: every receipt's verdict (and refusal rule) is
the one the generator intended. A cross-check of the generator and the ledger both."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import Ledger
from ledger.domain.receipt_check import verify_receipt
from ledger.settings import Settings
from ledger.synthetic import AUDITOR, MUNICIPALITY, UWV, History, generate

CLIENTS = 60


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    settings = Settings(database_url=database_url, operator_key=Ed25519PrivateKey.generate(),
                        pseudonym_key=os.urandom(32))
    ledger = Ledger(settings)
    try:
        yield ledger
    finally:
        ledger.close()


def test_the_ledger_decides_every_submission_as_intended(ledger: Ledger) -> None:
    history = generate(11, CLIENTS, ledger.settings.operator_key, ledger.pseudonym)
    checkpoint_key = ledger.transparency.verifier_key
    got: Counter[str] = Counter()
    mismatches = []
    claims: dict[tuple[str, str], str] = {}  # (client_ref, employer) -> the accepted claim's id
    for item in [*history.registry, *history.submissions]:
        receipt = ledger.submit(item.envelope)
        verify_receipt(receipt, [checkpoint_key], item.envelope)
        payload = item.envelope["payload"]
        assert receipt.envelope_id == payload["envelope_id"]
        rule = None if receipt.refusal is None else receipt.refusal["rule"]
        if (receipt.verdict, rule) != (item.expected_verdict, item.expected_rule):
            mismatches.append((payload, item.envelope["submitter"], item.expected_rule, receipt.refusal))
        got[rule or receipt.verdict] += 1
        if payload["type"] == "PlacementClaimed":
            key = (payload["client_ref"], payload["employer_kvk"])
            if receipt.accepted:
                claims[key] = payload["claim_id"]
            elif rule == "claim.unique-job":  # the refusal names the claim it collides with
                assert receipt.refusal is not None and receipt.refusal["conflicting_claim"] == claims[key]
    assert mismatches == []
    assert got["claim.unique-job"] >= 2  # Anja and at least one other double claim
    assert got["dates.outside-trajectory"] >= 1
    assert ledger.log_size() == 1 + len(history.registry) + len(history.submissions)
    _registry_is_complete(ledger, history)


def _registry_is_complete(ledger: Ledger, history: History) -> None:
    state = ledger.registry().state
    for party_id, party in history.parties.items():
        assert state.role_of(party_id) == party.role
    assert state.audits(AUDITOR) == [MUNICIPALITY, UWV]


def test_regenerating_and_resubmitting_changes_nothing(sqlite_url: str) -> None:
    """The same seed again yields the same envelopes, so a re-run of a demo or benchmark
    gets the original receipts back and adds nothing to the log."""
    ledger = Ledger(Settings(database_url=sqlite_url, operator_key=Ed25519PrivateKey.generate(),
                             pseudonym_key=os.urandom(32)))
    try:
        def run() -> list[tuple[int, str, str]]:
            history = generate(12, 4, ledger.settings.operator_key, ledger.pseudonym)
            receipts = [ledger.submit(item.envelope) for item in [*history.registry, *history.submissions]]
            return [(r.log_index, r.verdict, r.leaf_hash) for r in receipts]

        first = run()
        size = ledger.log_size()
        assert run() == first
        assert ledger.log_size() == size == 1 + len(first)
    finally:
        ledger.close()
