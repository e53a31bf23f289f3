"""The transparency log's subcommands: ``export``, ``verify`` and ``checkpoint``.

``cli.main`` wires them in with ``add_commands(sub, open_ledger)``. Handlers return the
CLI's exit codes: 0 ok; 2 malformed input (a bundle or key file that cannot be read, a
non-empty export directory); 3 verification failed; 78 configuration (raised as
``SettingsError`` and translated by ``cli.main``). ``verify`` needs neither a database
nor the ledger's settings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.bundle.archive import bundle_directory
from ledger.verify import STEPS, MalformedInput, VerifyError, verify_bundle
from ledger.verify.withheld import ScopeReport
from ledger.verify.witnesses import bundle_witnesses, read_witness_policy, witness_lines

EXIT_OK = 0


def add_commands(subparsers: Any, open_ledger: Callable[[], Any]) -> None:
    """Add ``export``, ``verify`` and ``checkpoint`` to an argparse subparsers object."""
    p = subparsers.add_parser("export", help="write the signed log as a self-contained bundle directory")
    p.add_argument("dir", help="a new (or empty) directory")
    p.add_argument("--for", dest="for_auditor", metavar="AUDITOR",
                   help="scope the export to this auditor's mandate: other funders' entries as leaf hashes only")
    p.set_defaults(handler=lambda args: cmd_export(args, open_ledger))

    p = subparsers.add_parser("verify", help="verify an export bundle offline (no database)")
    p.add_argument("dir", metavar="PATH", help="the bundle directory, or the .tar.gz the API serves (GET /v1/log/export)")
    add_trust_options(p)
    p.add_argument("--witness-policy", metavar="FILE",
                   help="a C2SP tlog-policy file: the newest checkpoint must carry its witness quorum")
    p.set_defaults(handler=cmd_verify)

    p = subparsers.add_parser("checkpoint", help="sign a checkpoint of the log now and print it")
    p.add_argument("--verifier-key", action="store_true",
                   help="print the operator's C2SP verifier key string instead")
    p.set_defaults(handler=lambda args: cmd_checkpoint(args, open_ledger))


def cmd_export(args: argparse.Namespace, open_ledger: Callable[[], Any]) -> int:
    from ledger.bundle.export import export_bundle  # the application, only for this command

    ledger = open_ledger()
    try:
        summary = export_bundle(ledger, Path(args.dir), for_auditor=args.for_auditor)
    finally:
        ledger.close()
    print(f"exported {summary.tree_size} entries, {summary.checkpoints} checkpoints and "
          f"{summary.registry_entries} registry entries to {summary.directory}")
    if summary.mandate is not None:
        print(f"scoped for {summary.mandate.auditor} (audits {', '.join(sorted(summary.mandate.funders))}): "
              f"{summary.tree_size - summary.withheld} entries held, {summary.withheld} withheld as leaf hashes; "
              f"{summary.partial_dossiers} client dossiers held in part")
    for key in summary.operator_keys:
        print(f"operator key: {key}")
    return EXIT_OK


def add_trust_options(parser: Any, prefix: str = "") -> None:
    """``--trusted-operator-key``, ``--against`` and ``--workers``, as ``verify`` and the reports on a bundle take them."""
    parser.add_argument("--trusted-operator-key", metavar="FILE",
                        help=prefix + "a file holding the operator's C2SP verifier key string, obtained out of band")
    parser.add_argument("--against", metavar="FILE",
                        help=prefix + "a signed checkpoint kept earlier: prove this log extends it")
    parser.add_argument("--workers", type=int, default=None,
                        help=prefix + "processes verifying signatures (default: one per core, at most 8; 0 = in-process)")


def trust_inputs(args: argparse.Namespace) -> tuple[str | None, bytes | None]:
    """The trusted operator key (text) and the kept checkpoint the options name, read. Raises
    ``MalformedInput`` for an unreadable file, ``UnicodeDecodeError`` for a key that is not text."""
    trusted = None if args.trusted_operator_key is None else _read(args.trusted_operator_key,
                                                                    "--trusted-operator-key").decode("utf-8")
    against = None if args.against is None else _read(args.against, "--against")
    return trusted, against


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        trusted, against = trust_inputs(args)
        policy = read_witness_policy(args.witness_policy)
        with bundle_directory(Path(args.dir)) as directory:  # an archive: unpacked safely, removed after
            verified = verify_bundle(directory, trusted_key=trusted, against=against, workers=args.workers)
            witnessed = bundle_witnesses(directory, policy)  # (9)
    except UnicodeDecodeError as exc:
        print(f"FAILED: --trusted-operator-key: step (1) {STEPS[1]}: not UTF-8 text: {exc}")
        return MalformedInput.exit_code
    except VerifyError as exc:
        print(f"FAILED: {exc}")
        return exc.exit_code
    scope = verified.scope
    for step, name in STEPS.items():
        status = "skipped (no --against)" if step == 8 and verified.against is None else "ok"
        status = "skipped (no --witness-policy)" if step == 9 and witnessed is None else status
        if step == 4 and scope is not None and scope.partial:
            status = f"ok, {len(scope.partial)} client dossiers only partly (see below)"
        print(f"({step}) {name}: {status}")
    print(f"verified {verified.tree_size} entries of {verified.origin}: {verified.checkpoints} checkpoints, "
          f"{verified.signatures} signatures, {verified.clients} client dossiers re-decided")
    if scope is not None:
        print("\n".join(scope_lines(scope, verified.tree_size)))
    if verified.against is not None:
        print(f"the log extends the auditor's checkpoint of {verified.against} entries")
    for key in verified.operator_keys:
        print(f"operator key: {key}")
    print(f"trusted by: {verified.anchor}")
    if witnessed is not None:
        print("\n".join(witness_lines(witnessed)))
    return EXIT_OK


def scope_lines(scope: ScopeReport, tree_size: int, listing: bool = True) -> list[str]:
    """What a verified scoped export holds, and which dossiers it could only partly re-decide."""
    lines = [f"scoped export for {scope.auditor} (audits {', '.join(scope.funders)}): "
             f"{tree_size - scope.withheld_entries} entries held, {scope.withheld_entries} withheld "
             "(leaf hash only: in every root and consistency proof, not re-decided)"]
    if not scope.partial:
        return lines + ["every client dossier it holds, it holds whole"]
    reasons = ", ".join(f"{count} {reason}" for reason, count in scope.by_reason.items())
    lines.append(f"partly re-decided: {len(scope.partial)} client dossiers hold withheld entries ({reasons}); "
                 f"each is re-decided up to its first withheld entry, not after it ({scope.not_redecided} held "
                 "entries not re-decided): neither verified nor failed")
    if listing:
        lines += [f"  {client_ref} from entry {partial.first_withheld}: "
                  + ", ".join(f"{count} {reason}" for reason, count in sorted(partial.reasons.items()))
                  for client_ref, partial in scope.partial.items()]
    return lines


def cmd_checkpoint(args: argparse.Namespace, open_ledger: Callable[[], Any]) -> int:
    ledger = open_ledger()
    try:
        if args.verifier_key:
            print(ledger.transparency.verifier_key)
        else:
            sys.stdout.write(ledger.checkpoint().note.decode("utf-8"))
    finally:
        ledger.close()
    return EXIT_OK


def _read(name: str, option: str) -> bytes:
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise MalformedInput(1, "file.unreadable", f"cannot read {name}: {exc}", where=option) from exc
