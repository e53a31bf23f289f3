"""The layout of an export bundle (a directory), shared by the exporter and the verifier.

    manifest.json       format, origin, key name, the receipts' signing key, tree size,
                        counts, and the SHA-256 and length of every other file, written
                        exactly as ``manifest_bytes`` writes it
    entries.jsonl       line i = the leaf bytes of entry i: RFC 8785 canonical JSON of
                        {envelope, verdict, refusal, recorded_at, log_index}
    receipts.jsonl      line i = the operator-signed receipt of entry i (canonical JSON), with
                        the leaf hash stored when the entry was appended
    checkpoints.jsonl   every stored checkpoint up to the tree size, oldest first, as
                        canonical JSON {note, tree_size}; note = the C2SP signed note
    checkpoint          the newest signed note itself (what an auditor keeps for --against)
    registry.jsonl      the registry entries (parties, keys, mandates), byte-identical to
                        their lines in entries.jsonl
    operator-keys.txt   the operator's C2SP verifier key strings, in the order registered

Every byte is checked by the verifier: there is no unsigned free text (the time of a
checkpoint is inside its signed note).

A scoped export (``SCOPED_FORMAT``, for one auditor: ``ledger.bundle.scope``) has the same
files; its manifest also has ``scope`` = {auditor, funders, withheld_entries,
partial_dossiers}. Line i of entries.jsonl is entry i's leaf bytes when it is held, else a
withheld line, canonical JSON of

    {"leaf_hash": HEX, "log_index": i}                                   (a dossier not held)
    {"client_ref": REF, "leaf_hash": HEX, "log_index": i, "withheld": R}  (a dossier held in part)

with HEX the entry's leaf hash SHA-256(0x00 || leaf) and R one of ``REASONS``. receipts.jsonl
holds the receipts of the held entries only, in log order; registry entries are always held.
"""

from __future__ import annotations

import json
from typing import Any

FORMAT = "trajectledger-export/2"  # /2: receipts.jsonl holds C2SP tlog-proof receipts (receipt_version 2)
SCOPED_FORMAT = "trajectledger-scoped-export/2"
# what the verifier reads: /1 bundles, written before, hold per-entry signed receipts (receipt_version 1),
# or, from exporters of the first tlog-proof version that did not say so yet, receipt_version 2 lines
READ_FORMATS = ("trajectledger-export/1", FORMAT)
READ_SCOPED_FORMATS = ("trajectledger-scoped-export/1", SCOPED_FORMAT)
MANIFEST = "manifest.json"
ENTRIES = "entries.jsonl"
RECEIPTS = "receipts.jsonl"
CHECKPOINTS = "checkpoints.jsonl"
CHECKPOINT = "checkpoint"
REGISTRY = "registry.jsonl"
OPERATOR_KEYS = "operator-keys.txt"
FILES = (ENTRIES, RECEIPTS, CHECKPOINTS, CHECKPOINT, REGISTRY, OPERATOR_KEYS)
COUNTS = {"entries": ENTRIES, "receipts": RECEIPTS, "checkpoints": CHECKPOINTS, "registry": REGISTRY,
          "operator_keys": OPERATOR_KEYS}  # each count is the file's number of lines
MANIFEST_FIELDS = ("format", "origin", "key_name", "operator_key", "tree_size", "counts", "files")
CHECKPOINT_FIELDS = ("note", "tree_size")
SCOPE_FIELDS = ("auditor", "funders", "withheld_entries", "partial_dossiers")
HELD_LINE = b'{"envelope":'  # how every held entry's line begins; a withheld line never does

OUTSIDE_MANDATE = "outside-mandate"  # a trajectory, claim or benefit of a funder the auditor does not audit
OTHER_SUBMITTER = "other-submitter"  # about the mandate's funders, submitted by a party that is not theirs
UNATTRIBUTED = "unattributed"  # a refused submission naming a trajectory, claim or benefit never recorded
REASONS = (OUTSIDE_MANDATE, OTHER_SUBMITTER, UNATTRIBUTED)


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The one serialisation of a manifest: sorted keys, two-space indent, ASCII, newline."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")
