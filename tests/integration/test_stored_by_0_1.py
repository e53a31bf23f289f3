"""A ledger stored by version 0.1.0 (``tests/fixtures/ledger-0.1``) still reads back, passes
``check``, exports a bundle that verifies and extends the checkpoint 0.1.0 signed, and takes
new submissions: the bytes that are signed, hashed and stored did not change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import Ledger
from ledger.bundle.export import export_bundle
from ledger.domain.envelope import b64encode, public_key_bytes, sign
from ledger.domain.receipt import Receipt, receipt_from_dict
from ledger.domain.receipt_check import verify_receipt
from ledger.infra.storage.integrity import check_store
from ledger.settings import Settings, load_keys
from ledger.verify import verify_bundle
from tests.support import registry

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ledger-0.1"
ENTRIES = 246


def test_a_ledger_stored_by_0_1_reads_back_verifies_and_grows(tmp_path: Path) -> None:
    shutil.copy(FIXTURE / "stored.sqlite", tmp_path / "stored.sqlite")
    operator_key, pseudonym_key = load_keys(FIXTURE / "keys")
    ledger = Ledger(Settings(f"sqlite:///{tmp_path}/stored.sqlite", operator_key, pseudonym_key))
    try:
        assert ledger.log_size() == ENTRIES
        found = check_store(ledger)
        assert found.damage == [] and found.log_rows == ENTRIES
        entries = ledger.entries(0, ENTRIES)
        assert [i for i, _ in entries] == list(range(ENTRIES))
        claim = next(body for _, body in entries if body["envelope"]["payload"]["type"] == "PlacementClaimed")
        receipt = ledger.receipt(claim["envelope"]["payload"]["envelope_id"])
        assert receipt is not None and receipt.verdict == claim["verdict"]
        # entries stored by 0.1 get proof receipts too, against the first checkpoint after them
        verify_receipt(receipt, [ledger.transparency.verifier_key], claim["envelope"])
        ledger.dossier(claim["envelope"]["payload"]["client_ref"])  # reads back
        export_bundle(ledger, tmp_path / "before")
        # the bundle's receipt of an entry stored by 0.1 is a proof receipt too, against the bundle's checkpoint
        kept = receipt_from_dict(json.loads((tmp_path / "before" / "receipts.jsonl").read_bytes().splitlines()[receipt.log_index]))
        assert isinstance(kept, Receipt) and kept.leaf_hash == receipt.leaf_hash and kept.tree_size == ENTRIES
        verify_receipt(kept, [ledger.transparency.verifier_key], claim["envelope"])
        verified = verify_bundle(tmp_path / "before", against=(FIXTURE / "checkpoint.txt").read_bytes(), workers=0)
        assert verified.tree_size == ENTRIES and verified.against == ENTRIES
        new_key = public_key_bytes(Ed25519PrivateKey.generate())
        added = ledger.submit(sign(registry("PartyRegistered", party_id="nieuw-werk", role="provider",
                                            public_key=b64encode(new_key)), "operator", operator_key).as_dict())
        assert added.accepted and added.log_index == ENTRIES
        export_bundle(ledger, tmp_path / "after")
        assert verify_bundle(tmp_path / "after", against=(FIXTURE / "checkpoint.txt").read_bytes(), workers=0).tree_size == ENTRIES + 1
    finally:
        ledger.close()
