"""``trajectledger``: the command line. Errors are translated to exit codes here, once.

Exit codes: 0 ok; 1 a submission was refused by a ledger rule; 2 bad input (malformed,
badly signed, unknown party or key); 3 verification failed; 75 busy, try again;
78 configuration (missing or foreign keys, a database that cannot be opened, another log
origin); 141 the reader of the output closed it early (``| head``), quietly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from cli import party_client
from cli.audit_commands import add_commands as add_audit_commands
from cli.backup_commands import add_commands as add_backup_commands
from cli.indicator_commands import add_commands as add_indicator_commands
from cli.log_commands import add_commands as add_log_commands
from cli.party_commands import add_commands as add_party_commands
from cli.receipt_commands import add_commands as add_receipt_commands
from cli.report_commands import add_commands as add_projection_commands
from cli.rules_commands import add_commands as add_rules_commands
from cli.tiles_commands import add_commands as add_tiles_commands
from cli.witness_commands import add_commands as add_witness_commands
from ledger.application import Ledger
from ledger.domain.envelope import private_key_pem
from ledger.domain.errors import InvalidSubmission, LedgerBusy, LedgerError, Refusal
from ledger.infra import heap
from ledger.infra.ed25519_pool import Ed25519Pool
from ledger.reader import LedgerReader
from ledger.settings import KEY_DIR_SETTING, Settings, SettingsError, create_keys, database_url, load_keys, write_secret
from projections.definitions.registry import installed
from projections.errors import DuplicateDefinition, InconsistentHistory, InvalidPlugin, LogGap

EXIT_OK, EXIT_REFUSED, EXIT_INVALID, EXIT_VERIFY, EXIT_BUSY, EXIT_CONFIG = 0, 1, 2, 3, 75, 78
EXIT_PIPE = 141  # 128 + SIGPIPE: the reader of the output closed it early, as a shell reports it
EXIT_INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C interrupted a command in the middle of its work
DEMO_DIR = Path("trajectledger-demo")

EXIT_CODES: list[tuple[type[Exception], int]] = [
    (LedgerBusy, EXIT_BUSY),
    (Refusal, EXIT_REFUSED),
    (InvalidSubmission, EXIT_INVALID),
    (SettingsError, EXIT_CONFIG),
    (InvalidPlugin, EXIT_CONFIG),
    (DuplicateDefinition, EXIT_CONFIG),
    (LogGap, EXIT_VERIFY),
    (InconsistentHistory, EXIT_VERIFY),
    (LedgerError, EXIT_INVALID),
]


def open_ledger() -> Ledger:
    return Ledger(Settings.from_environ(), definitions=installed().names())


def open_reader() -> Ledger | LedgerReader:
    """For the commands that only read (``status``, the reports, ``read-models``, ``indicators``,
    ``follow-ups``, ``receipt``): with the operator's keys configured, the ledger itself, as
    before; without them, its database read with no keys
    (``ledger.reader``), which signs and records nothing and never creates a ledger. Writing
    commands keep ``open_ledger``, which refuses to start without the keys."""
    if os.environ.get(KEY_DIR_SETTING):
        return open_ledger()
    return LedgerReader(database_url(os.environ))


def cmd_init_keys(args: argparse.Namespace) -> int:
    create_keys(Path(args.dir))
    print(f"wrote {args.dir}/operator.pem and {args.dir}/pseudonym.key (keep both secret)")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Build a demo ledger from the synthetic generator and print what it holds."""
    from ledger.synthetic import generate
    from ledger.synthetic.behaviour import BEHAVIOURS

    key_dir = Path(args.dir) / "keys"
    if not (key_dir / "operator.pem").exists():
        create_keys(key_dir)
    operator_key, pseudonym_key = load_keys(key_dir)
    settings = Settings(database_url(os.environ), operator_key, pseudonym_key)
    pool = Ed25519Pool(signing_key=operator_key)  # the batches' signatures on every core
    pool.start()
    ledger = Ledger(settings, pool, definitions=installed().names())
    heap.settle()  # set up: the collector walks only the demo's history from now on
    history = generate(seed=args.seed, clients=args.clients, operator_key=operator_key, pseudonymise=ledger.pseudonym,
                       behaviour=BEHAVIOURS[args.incentives] if args.incentives else None)
    verdicts: Counter[str] = Counter()
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        for result in ledger.submit_batch(batch):
            if isinstance(result, InvalidSubmission):
                verdicts[f"invalid ({result.rule})"] += 1
            else:
                verdicts[result.verdict if result.accepted else f"refused ({result.refusal['rule']})"] += 1  # type: ignore[index]
        batch.clear()

    for item in history.registry:
        ledger.submit(item.envelope)
    for item in history.submissions:
        batch.append(item.envelope)
        if len(batch) >= 200:
            flush()
    flush()
    party_dir = key_dir / "parties"
    party_dir.mkdir(mode=0o700, exist_ok=True)
    for party in history.parties.values():
        if party.role != "operator":  # private keys: mode 0600, also where an older demo left them readable
            write_secret(party_dir / f"{party.party_id}.pem", private_key_pem(party.private_key), replace=True)
    print(f"demo ledger: {settings.database_url}")
    print(f"ledger keys: {key_dir}/operator.pem, {key_dir}/pseudonym.key")
    print(f"party keys:  {party_dir}/<party>.pem (derived from seed {args.seed})")
    print_status(ledger)
    print("this run's submissions:")
    for verdict, count in sorted(verdicts.items()):
        print(f"  {verdict:<40} {count:>8}")
    ledger.close()
    pool.close()
    return EXIT_OK


def print_status(ledger: Ledger | LedgerReader) -> None:
    registry = ledger.registry().state
    print(f"log entries: {ledger.log_size()}")
    print("parties:")
    for party_id, party in sorted(registry.parties.items()):
        live = [k for k, v in party["keys"].items() if not v["revoked"]]
        print(f"  {party_id:<24} {party['role']:<9} keys: {', '.join(live)}")
    counts: Counter[tuple[str, str]] = Counter()
    start = 0
    while True:
        chunk = ledger.entries(start, 5000)
        if not chunk:
            break
        for _, entry in chunk:
            counts[(entry["envelope"]["payload"]["type"], entry["verdict"])] += 1
        start = chunk[-1][0] + 1
    print("entries by type and verdict:")
    for (kind, verdict), count in sorted(counts.items()):
        print(f"  {kind:<24} {verdict:<9} {count:>8}")


def cmd_status(args: argparse.Namespace) -> int:
    ledger = open_reader()
    print_status(ledger)
    ledger.close()
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Check every dossier's stored events, log rows and snapshots; with --repair, repair
    what an earlier version could damage (run it with the ledger's servers stopped)."""
    from ledger.infra.storage.integrity import NotRepairable, check_store, repair_store

    ledger = open_ledger()
    try:
        found = check_store(ledger)
        print(f"checked {found.aggregates} aggregates: {found.events} events, {found.log_rows} log rows, "
              f"{found.snapshots} snapshots")
        for damage in found.damage:
            print(f"  damaged {damage}")
        if not found.damage:
            print("every aggregate's versions are contiguous, indexed once by the log, and its snapshots match a replay")
            return EXIT_OK
        if not args.repair:
            print(f"{len(found.damaged)} aggregates damaged; 'trajectledger check --repair' repairs them (servers stopped)")
            return EXIT_VERIFY
        try:
            repairs = repair_store(ledger, found)
        except NotRepairable as exc:
            print(f"error: not repairable automatically, nothing changed: {exc}", file=sys.stderr)
            return EXIT_VERIFY
        for repair in repairs:
            print(f"  repaired {repair.aggregate_id}: {repair.renumbered} events renumbered, "
                  f"{repair.snapshots_dropped} snapshots dropped")
        again = check_store(ledger)
        for damage in again.damage:
            print(f"  still damaged {damage}")
        print("repaired: every aggregate is readable again" if not again.damage else "repair incomplete")
        return EXIT_OK if not again.damage else EXIT_VERIFY
    finally:
        ledger.close()


def cmd_submit_local(args: argparse.Namespace) -> int:
    """Submit envelopes from a JSON file (one envelope or a list) straight to the ledger."""
    data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    items = data if isinstance(data, list) else [data]
    ledger = open_ledger()
    worst = EXIT_OK
    for result in ledger.submit_batch(items):
        if isinstance(result, InvalidSubmission):
            print(json.dumps({"error": result.as_dict()}))
            worst = max(worst, EXIT_INVALID)
        else:
            print(json.dumps(result.as_dict()))
            if not result.accepted:
                worst = max(worst, EXIT_REFUSED)
    ledger.close()
    return worst


def cmd_submit(args: argparse.Namespace) -> int:
    """Sign payloads from a JSON file with a party's key and submit them over HTTP; the same
    file again records nothing new (``cli.submit_file``: envelope ids derived from the payloads)."""
    import httpx

    from cli.submit_file import read_payloads, read_private_key, signed_envelopes
    from sdk.client import ClientError, LedgerClient, ProblemError

    payloads = read_payloads(Path(args.file))
    key = read_private_key(Path(args.key))
    envelopes = signed_envelopes(payloads, args.party, key)
    client = LedgerClient.connect(args.url, args.party, key)
    worst = EXIT_OK
    try:
        for result in client.submit_batch(envelopes):
            if isinstance(result, ProblemError):
                print(json.dumps({"error": result.problem}))
                worst = max(worst, EXIT_INVALID)
            else:
                print(json.dumps(result.as_dict()))
                worst = max(worst, EXIT_OK if result.accepted else EXIT_REFUSED)
    except (ClientError, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    finally:
        client.close()
    return worst


def cmd_pseudonym(args: argparse.Namespace) -> int:
    """Read BSNs from standard input (never from the command line), print client_refs: asked
    of a served ledger as a party (``--url`` or TRAJECTLEDGER_URL), else with the operator's
    pseudonymisation key."""
    if args.url or os.environ.get(party_client.ENVIRONMENT["url"]):
        return party_client.pseudonyms_over_api(args, sys.stdin)
    ledger = open_ledger()
    for line in sys.stdin:
        if line.strip():
            print(ledger.pseudonym(line.strip()))
    ledger.close()
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trajectledger", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init-keys", help="create an operator key and a pseudonymisation key")
    p.add_argument("dir")
    p.set_defaults(handler=cmd_init_keys)

    p = sub.add_parser("demo", help="build a demo ledger from synthetic history and show it")
    p.add_argument("--clients", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dir", default=str(DEMO_DIR), help="where the demo keeps its keys")
    p.add_argument("--incentives", choices=("koning", "neutral"),
                   help="plant incentive behaviours (declines, parking, contract lengths per contract type; follow-ups, "
                        "cooperation): 'koning' as Koning measured them, 'neutral' alike for both contract types")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("status", help="log size, parties, entries by type")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("check", help="check every dossier's stored events, log rows and snapshots")
    p.add_argument("--repair", action="store_true",
                   help="renumber events whose versions skip and drop bad snapshots (stop the servers first)")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("submit-local", help="submit signed envelopes from a JSON file directly")
    p.add_argument("file")
    p.set_defaults(handler=cmd_submit_local)

    p = sub.add_parser("submit", help="sign payloads from a JSON file and submit them to a served ledger")
    p.add_argument("file", help="a payload object or a list of them; envelope_id, when missing, derived from "
                                "party and payload, so the same file again records nothing new")
    p.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000 (or .../v1)")
    p.add_argument("--party", required=True, help="your party id")
    p.add_argument("--key", required=True, help="your Ed25519 private key (PEM, PKCS#8)")
    p.set_defaults(handler=cmd_submit)

    add_receipt_commands(sub, open_reader)  # receipt, receipt-verify

    p = sub.add_parser("pseudonym", help="BSNs on standard input -> client_refs (over the API with --url)")
    party_client.add_connection_options(p)
    p.set_defaults(handler=cmd_pseudonym)

    add_log_commands(sub, open_ledger)  # export, verify, checkpoint
    add_tiles_commands(sub, open_ledger)  # tiles
    add_projection_commands(sub, open_reader)  # replay, flags, payments, read-models, report
    add_indicator_commands(sub, open_reader)  # indicators, follow-ups
    add_party_commands(sub, open_ledger)  # key, party
    add_rules_commands(sub, open_ledger)  # rules show, rules adopt
    party_client.add_commands(sub)  # get, export-download (as a party, over the API)
    add_backup_commands(sub)  # backup, restore
    add_witness_commands(sub, open_ledger)  # witness init-key|vkey|serve|evidence|push
    add_audit_commands(sub)  # sample, audit-result
    try:
        from api.serve import add_commands as add_api_commands
    except ImportError:  # the [api] extra is not installed
        return parser
    add_api_commands(sub, Settings.from_environ)  # serve
    from cli.dashboard_commands import add_commands as add_dashboard_commands
    add_dashboard_commands(sub)  # dashboard (live as a party, or on an export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        code = handler(args)
        sys.stdout.flush()  # output to a closed pipe fails here, not in a traceback at exit
        return code
    except BrokenPipeError:  # the reader of the output went away (the workers' pipes are handled where they are)
        output_closed()
        return EXIT_PIPE
    except KeyboardInterrupt:  # Ctrl-C in a command doing its work (the servers stop in order: api.stopping)
        print("stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (OSError, ValueError) as exc:  # unreadable file, bad JSON, bad key file
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID


def output_closed() -> None:
    """Standard output's reader went away (``trajectledger status | head -1``): what is still
    buffered goes to /dev/null, as the Python documentation advises (``signal`` module, "Note
    on SIGPIPE"), so that the interpreter's last flush does not fail with a traceback at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def exit_code(exc: Exception) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
