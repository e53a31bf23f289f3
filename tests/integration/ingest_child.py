"""The process ``test_crash_during_ingest`` kills: ``python -m tests.integration.ingest_child
DATABASE_URL KEY_DIR BATCH_DIR OUT``.

Opens a ``Ledger`` with the keys in KEY_DIR, touches ``OUT.ready``, then submits each
``BATCH_DIR/NNNN.json`` (a JSON list of signed envelopes) in name order and, after each, appends
one line to OUT - the JSON list of the receipts it got back - flushed and fsynced before the
next batch starts. Checkpoints are signed every 16 entries, so a kill can land in one.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ledger.application import Ledger
from ledger.domain.receipt import Receipt
from ledger.settings import Settings, load_keys


def main(database_url: str, key_dir: str, batch_dir: str, out: str) -> None:
    operator_key, pseudonym_key = load_keys(Path(key_dir))
    ledger = Ledger(Settings(database_url, operator_key, pseudonym_key))
    Path(out + ".ready").touch()
    with open(out, "ab") as written:
        for batch in sorted(Path(batch_dir).glob("*.json")):
            results = ledger.submit_batch(json.loads(batch.read_text()))
            receipts = [r.as_dict() if isinstance(r, Receipt) else {"invalid": repr(r)} for r in results]
            written.write(json.dumps(receipts).encode() + b"\n")
            written.flush()
            os.fsync(written.fileno())
    ledger.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
