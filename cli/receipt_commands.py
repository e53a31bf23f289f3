"""Receipts on the command line: ``receipt ENVELOPE_ID [--tlog-proof]`` (from the database; with no
keys configured, read with ``ledger.reader``, against the checkpoint stored when the entry was written)
and ``receipt-verify RECEIPT --envelope FILE --trusted-operator-key FILE`` (offline: no
database, no settings).

``receipt-verify`` takes a receipt as the API and ``receipt`` print it (JSON, format 2 or
the format 1 of earlier versions) or a bare ``.tlog-proof``, and the envelope it is for, and
follows ``ledger.domain.receipt_check``: exit 0 when it verifies, 2 when an input is
malformed, 3 when it does not verify.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from ledger.application import Ledger
from ledger.domain.checkpoint import CheckpointError, parse_verifier_key
from ledger.domain.entry import entry_body, leaf_bytes
from ledger.domain.errors import BadSignature, LedgerError
from ledger.domain.merkle import leaf_hash
from ledger.domain.receipt import MalformedReceipt, Receipt, ReceiptNotVerified, receipt_from_dict
from ledger.domain.receipt_check import verify_receipt, verify_tlog_proof
from ledger.domain.signed_receipt import verify_signed_receipt
from ledger.domain.tlog_proof import HEADER
from ledger.reader import LedgerReader

EXIT_OK, EXIT_INVALID, EXIT_VERIFY = 0, 2, 3


def add_commands(subparsers: Any, open_ledger: Callable[[], Ledger | LedgerReader]) -> None:
    p = subparsers.add_parser("receipt", help="print the receipt of an envelope (a C2SP tlog-proof against its batch's checkpoint)")
    p.add_argument("envelope_id")
    p.add_argument("--tlog-proof", action="store_true", help="print only the c2sp.org/tlog-proof@v1 text")
    p.set_defaults(handler=lambda args: cmd_receipt(args, open_ledger))

    p = subparsers.add_parser("receipt-verify", help="verify a receipt offline against its envelope and the operator's key")
    p.add_argument("receipt", help="the receipt: its JSON (format 2 or 1) or a .tlog-proof file")
    p.add_argument("--envelope", required=True, metavar="FILE", help="the signed envelope the receipt is for (JSON)")
    p.add_argument("--trusted-operator-key", required=True, metavar="FILE",
                   help="a file holding the operator's C2SP verifier key string, obtained out of band")
    p.set_defaults(handler=cmd_receipt_verify)


def cmd_receipt(args: argparse.Namespace, open_ledger: Callable[[], Ledger | LedgerReader]) -> int:
    ledger = open_ledger()
    try:
        receipt = ledger.receipt(args.envelope_id)
    finally:
        ledger.close()
    if receipt is None:
        print(f"error: no envelope {args.envelope_id} in this ledger", file=sys.stderr)
        return EXIT_INVALID
    if args.tlog_proof:
        sys.stdout.write(receipt.tlog_proof().decode("utf-8"))
    else:
        print(json.dumps(receipt.as_dict(), indent=2))
    return EXIT_OK


def cmd_receipt_verify(args: argparse.Namespace) -> int:
    try:
        text, envelope, key = _read(args.receipt), _json(args.envelope, "--envelope"), _key(args.trusted_operator_key)
        if text.startswith(HEADER + b"\n"):
            receipt: Any = verify_tlog_proof(text, [key], envelope)
        else:
            receipt = receipt_from_dict(_json(args.receipt, "RECEIPT"))
            if isinstance(receipt, Receipt):
                verify_receipt(receipt, [key], envelope)
            else:
                _verify_format_1(receipt, envelope, key)
    except MalformedReceipt as exc:
        print(f"MALFORMED: {exc}")
        return EXIT_INVALID
    except (ReceiptNotVerified, BadSignature) as exc:
        print(f"FAILED: {exc}")
        return EXIT_VERIFY
    if isinstance(receipt, Receipt):
        print(f"OK: entry {receipt.log_index} ({receipt.verdict}) of envelope {receipt.envelope_id} is in the log of "
              f"{receipt.tree_size} entries the operator signed")
    else:
        print(f"OK: entry {receipt.log_index} ({receipt.verdict}) of envelope {receipt.envelope_id}: format 1, "
              "signed by the operator")
    return EXIT_OK


def _verify_format_1(receipt: Any, envelope: dict[str, Any], key: str) -> None:
    verify_signed_receipt(receipt, parse_verifier_key(key)[2])
    body = entry_body(envelope, receipt.verdict, receipt.refusal, receipt.recorded_at)
    payload = envelope.get("payload")
    if not isinstance(payload, dict) or payload.get("envelope_id") != receipt.envelope_id \
            or leaf_hash(leaf_bytes(body, receipt.log_index)).hex() != receipt.leaf_hash:
        raise ReceiptNotVerified("the receipt is not for this envelope (its leaf hash differs)", field="leaf_hash")


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise MalformedReceipt(f"cannot read {path}: {exc.strerror}", field="receipt") from exc


def _json(path: str, what: str) -> Any:
    try:
        data = json.loads(_read(path))
    except ValueError as exc:
        raise MalformedReceipt(f"{what} is not JSON: {exc}", field=what) from exc
    if not isinstance(data, dict):
        raise MalformedReceipt(f"{what} is not a JSON object", field=what)
    return data


def _key(path: str) -> str:
    try:
        key = _read(path).decode("utf-8").strip()
        parse_verifier_key(key)
    except (UnicodeDecodeError, CheckpointError, LedgerError) as exc:
        raise MalformedReceipt(f"--trusted-operator-key is not a C2SP verifier key string: {exc}",
                               field="--trusted-operator-key") from exc
    return key
