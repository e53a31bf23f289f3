"""End to end over HTTP: a served ledger, the operator registering the parties, two funders
commissioning trajectories for the same client with two providers, and the second provider
trying to claim the job the first one claimed. Every receipt is checked by the SDK (operator
signature and leaf hash of the envelope it signed) and proven in the signed log; an auditor
downloads the export and it verifies offline; the BSN appears in no log line.
"""

from __future__ import annotations

import logging
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.app import create_app
from api.settings import ApiSettings
from ledger.domain.checkpoint import verifier_key_string
from ledger.domain.envelope import b64encode, public_key_bytes
from ledger.domain.receipt import Receipt
from ledger.domain.receipt_check import verify_receipt
from ledger.verify import verify_bundle
from sdk.client import LedgerClient, ProblemError
from tests.e2e.server import running
from tests.support import new_id, new_settings

BSN = "123456782"
FUNDERS = ("gemeente-zaanstad", "uwv")
PROVIDERS = ("werkfit", "jobstap")
AUDITOR = "rekenkamer-zaanstad"
COMMISSION = dict(start="2024-01-01", planned_end="2024-12-31", definition="six-month-rule",
                  contract="no-cure-no-pay", fee_cents=250000, base_fee_cents=0)
JOB = dict(employer_kvk="87654321", application_date="2024-04-15", job_start="2024-05-01",
           contract_end="2025-04-30", hours_per_week=36, secondment_via_provider=False, evidence_sha256="cd" * 32)


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[str, ApiSettings]]:
    settings = ApiSettings(new_settings(database_url))
    app = create_app(settings)
    try:
        with running(app) as url:
            yield url, settings
    finally:
        app.state.ledger.close()


def test_the_second_claim_on_a_job_is_refused_across_funders(served: tuple[str, ApiSettings], tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    url, settings = served
    ledger_key = public_key_bytes(settings.ledger.operator_key)
    keys = {party: Ed25519PrivateKey.generate() for party in (*FUNDERS, *PROVIDERS, AUDITOR)}
    roles = {**dict.fromkeys(FUNDERS, "funder"), **dict.fromkeys(PROVIDERS, "provider"), AUDITOR: "auditor"}
    clients: dict[str, LedgerClient] = {}
    try:
        operator = clients["operator"] = LedgerClient.connect(url, "operator", settings.ledger.operator_key)
        registered = operator.submit_batch([
            *(operator.envelope("PartyRegistered", "2024-01-01", party_id=party, role=roles[party],
                                public_key=b64encode(public_key_bytes(key))) for party, key in keys.items()),
            operator.envelope("AuditMandateGranted", "2024-01-01", party_id=AUDITOR, funder=FUNDERS[0])])
        assert [r.verdict for r in registered] == ["accepted"] * 6  # type: ignore[union-attr]
        assert operator.ledger_key() == ledger_key  # fetched once from the server, and right
        for party, key in keys.items():
            clients[party] = LedgerClient.connect(url, party, key, ledger_key=ledger_key)
        zaanstad, uwv = clients[FUNDERS[0]], clients[FUNDERS[1]]
        werkfit, jobstap = clients[PROVIDERS[0]], clients[PROVIDERS[1]]

        ref = zaanstad.pseudonym(BSN)
        assert uwv.pseudonym(BSN) == ref
        first, second, claim_id = new_id(), new_id(), new_id()
        receipts: list[Receipt] = [
            zaanstad.submit(zaanstad.envelope("TrajectoryCommissioned", "2024-01-01", client_ref=ref,
                                              trajectory_id=first, provider=PROVIDERS[0], **COMMISSION)),
            uwv.submit(uwv.envelope("TrajectoryCommissioned", "2024-01-01", client_ref=ref, trajectory_id=second,
                                    provider=PROVIDERS[1], **COMMISSION)),
            werkfit.submit(werkfit.envelope("ActivityRecorded", "2024-03-01", client_ref=ref, trajectory_id=first,
                                            instrument=30)),
            werkfit.submit(werkfit.envelope("PlacementClaimed", "2024-05-01", client_ref=ref, trajectory_id=first,
                                            claim_id=claim_id, **JOB)),
        ]
        assert all(r.accepted for r in receipts)

        attempt = jobstap.submit(jobstap.envelope("PlacementClaimed", "2024-05-02", client_ref=ref,
                                                  trajectory_id=second, claim_id=new_id(), **JOB))
        assert attempt.verdict == "refused"
        assert attempt.refusal is not None and attempt.refusal["rule"] == "claim.unique-job"
        assert attempt.refusal["conflicting_claim"] == claim_id
        assert PROVIDERS[0] not in str(attempt.as_dict()) and FUNDERS[0] not in str(attempt.as_dict())

        confirmed = zaanstad.submit(zaanstad.envelope("PlacementConfirmed", "2024-05-10", client_ref=ref,
                                                      claim_id=claim_id))
        assert confirmed.accepted
        assert [c["status"] for c in zaanstad.claims(ref)] == ["confirmed"]
        assert uwv.claims(ref) == [] and jobstap.claims(ref) == []
        with pytest.raises(ProblemError) as hidden:
            jobstap.get(f"/dossiers/{ref}/claims/{claim_id}")
        assert hidden.value.status == 404

        # offline: every receipt, refusal included, against the operator key alone
        checkpoint_key = verifier_key_string(settings.ledger.log_origin, ledger_key)
        for receipt in [*receipts, attempt, confirmed]:
            verify_receipt(receipt, [checkpoint_key])
        assert sorted(r.log_index for r in [*receipts, attempt, confirmed]) == list(
            range(receipts[0].log_index, receipts[0].log_index + 6))

        # the refused attempt is in the signed log too, and the log only grows
        before = jobstap.prove_inclusion(attempt)
        after = zaanstad.prove_inclusion(confirmed)
        zaanstad.prove_consistency(before, after)

        # the auditor downloads the log scoped to its mandate (Zaanstad) and verifies it offline, trusting
        # only the operator key: UWV's trajectory and jobstap's attempt on it are withheld, so the dossier is partial
        archive = clients[AUDITOR].download_export(tmp_path / "export.tar.gz")
        with tarfile.open(archive) as tar:
            tar.extractall(tmp_path, filter="data")
        trusted = verifier_key_string(settings.ledger.log_origin, ledger_key)
        verified = verify_bundle(tmp_path / "trajectledger-export", trusted_key=trusted, workers=0)
        assert verified.tree_size == confirmed.log_index + 1 and verified.scope is not None
        assert list(verified.scope.partial) == [ref] and verified.clients == 0
    finally:
        for client in clients.values():
            client.close()

    logged = [record.getMessage() for record in caplog.records]
    assert any("POST /v1/pseudonyms" in line for line in logged), "the access log is on"
    assert not any(BSN in line for line in logged)
