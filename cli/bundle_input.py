"""``--bundle PATH``: a report read from a verified export instead of the operator's database.

``add_options(parser)`` adds ``--bundle``, ``--trusted-operator-key``, ``--against`` and
``--workers`` (as ``verify`` has them); ``on_bundle(args, report)`` opens the bundle (a
directory or the API's ``.tar.gz``), runs the verifier's whole checklist, and only then calls
``report(entries)`` with the bundle's entries as the projections' source. No database, no
keys, no settings. A bundle that does not verify gives no report: its first failure goes to
standard error as ``verify`` prints it (``FAILED: ...``) and the exit code is ``verify``'s
(2 malformed, 3 verification failed); standard output is left to the report alone. On a
scoped export, standard error also says how many entries are withheld and which dossiers
(held in part) the report leaves out (``ledger.bundle.source``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli.log_commands import add_trust_options, scope_lines, trust_inputs
from ledger.bundle.source import BundleEntries, VerifiedBundle, open_verified
from ledger.verify import STEPS, MalformedInput, VerifyError
from ledger.verify.withheld import ScopeReport
from projections.source import EntrySource


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reading a downloaded export instead of the database")
    group.add_argument("--bundle", metavar="PATH",
                       help="an export bundle directory or its .tar.gz: verified first (as 'verify' does), "
                            "then reported on; no database, keys or settings")
    add_trust_options(group, "with --bundle: ")


def wants_bundle(args: argparse.Namespace) -> bool:
    """True with --bundle; the bundle-only options without it are a usage error (``ValueError``)."""
    if args.bundle is not None:
        return True
    given = [option for option, value in (("--trusted-operator-key", args.trusted_operator_key),
                                          ("--against", args.against), ("--workers", args.workers)) if value is not None]
    if given:
        raise ValueError(f"{', '.join(given)} only apply to a report on an export: add --bundle PATH")
    return False


def on_bundle(args: argparse.Namespace, report: Callable[[EntrySource], int]) -> int:
    """Verify the bundle ``args.bundle``, then ``report`` on its entries (see the module note)."""
    return on_verified(args, lambda bundle: report(bundle.entries))


def on_verified(args: argparse.Namespace, report: Callable[[VerifiedBundle], int]) -> int:
    """As ``on_bundle``, handing ``report`` the whole verified bundle (what was verified, the entries)."""
    try:
        trusted, against = trust_inputs(args)
    except UnicodeDecodeError as exc:
        print(f"FAILED: --trusted-operator-key: step (1) {STEPS[1]}: not UTF-8 text: {exc}", file=sys.stderr)
        return MalformedInput.exit_code
    except VerifyError as exc:
        return _failed(exc)
    try:
        with open_verified(Path(args.bundle), trusted_key=trusted, against=against, workers=args.workers) as bundle:
            verified = bundle.verified
            print(f"verified {verified.tree_size} entries of {verified.origin} in {args.bundle}; "
                  f"trusted by: {verified.anchor}", file=sys.stderr)
            if verified.scope is not None:
                print(scope_note(verified.scope, verified.tree_size, verified.clients), file=sys.stderr)
            return report(bundle)
    except VerifyError as exc:  # the checklist's first failure, or entries changed after it ran
        return _failed(exc)


def scope_note(scope: ScopeReport, tree_size: int, whole: int) -> str:
    """What a report on a scoped export covers: the dossiers it holds whole, never a partial one."""
    lines = scope_lines(scope, tree_size, listing=False)
    if scope.partial:
        lines.append(f"this report covers the {whole} client dossiers held whole; the {len(scope.partial)} held in "
                     "part are left out of it (their verdicts would rest on entries withheld): "
                     "'trajectledger verify' lists them")
    return "\n".join(lines)


def with_scope(document: Any, source: EntrySource) -> Any:
    """A report's JSON document, with what a scoped export's report leaves out (``scope``)."""
    scope = source.scope if isinstance(source, BundleEntries) else None
    if scope is None or not isinstance(document, dict):
        return document
    return {**document, "scope": {
        "auditor": scope.auditor, "funders": scope.funders, "withheld_entries": scope.withheld_entries,
        "partial_dossiers_left_out": sorted(scope.partial),
        "note": "a scoped export: the entries of funders outside the mandate are withheld; the client dossiers "
                "held in part are left out of this report",
    }}


def _failed(exc: VerifyError) -> int:
    print(f"FAILED: {exc}", file=sys.stderr)
    return exc.exit_code
