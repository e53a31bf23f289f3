"""CLI subcommands of the projections: ``replay``, ``flags``, ``payments``, ``read-models``.

``add_commands(subparsers, open_ledger)`` adds them to the ledger's argparse CLI. Each
sets ``handler`` (``args -> int``) as its default; handlers print reports to stdout.
``open_ledger()`` returns a ready ``Ledger``; the handler closes it. Errors are typed
(``projections.errors``, all ``LedgerError``s) and left to the CLI's one translation table.

The three reports read entries from a source (``projections.source.EntrySource``): the
ledger, with its read models (``engine``), or with ``--bundle PATH`` a verified export
(``cli.bundle_input``) with no engine: of everything recorded, the dossiers its verifier
rebuilt while re-deciding every entry (``projections.source.FoldedSource``), for a cut-off
folded from its entries - the same code either way, and no database, keys or settings for a
bundle.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from cli.bundle_input import add_options as add_bundle_options
from cli.bundle_input import on_bundle, on_verified, wants_bundle, with_scope
from cli.log_commands import add_trust_options
from ledger.bundle.source import VerifiedBundle
from ledger.domain.entry import now_utc, recording_date
from projections.definitions.registry import DefinitionRegistry, installed
from projections.evaluation import GROUPS
from projections.flags import FLAGS
from projections.history import known_at_day, parse_known_at
from projections.indicators.cooperation import shares
from projections.indicators.selection import declined_referrals
from projections.payments import payments
from projections.read_models import ReadModels
from projections.render import FORMATS, render
from projections.replay import evaluate_ledger, flag_listing, load_dossiers, replay_ledger
from projections.reports import (
    differences_table,
    flags_document,
    flags_table,
    payments_document,
    payments_table,
    rates_table,
    replay_document,
)
from projections.source import EntrySource
from reporting.basis import bundle_basis
from reporting.council import council_report
from reporting.write import SUFFIXES, writer

OpenLedger = Callable[[], Any]  # () -> ledger.application.Ledger
Report = Callable[[argparse.Namespace, EntrySource, Engine | None], int]  # (args, entries, read models' engine)

def _date_argument(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not {text!r}") from exc


def _known_at_argument(text: str) -> str:
    try:
        return parse_known_at(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected YYYY-MM-DD or an ISO 8601 instant with a zone, not {text!r}"
        ) from exc


def _add_time_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-known-at", type=_known_at_argument, metavar="DATE",
                        help="ignore entries recorded after this date (end of day, Europe/Amsterdam) or instant")
    parser.add_argument("--peildatum", type=_date_argument, metavar="DATE",
                        help="measure at this date (default: the as-known-at date, else today)")
    parser.add_argument("--format", choices=FORMATS, default="table")


def add_commands(subparsers: Any, open_ledger: OpenLedger) -> None:
    def bind(run: Report) -> Callable[[argparse.Namespace], int]:
        return lambda args: _report(run, args, open_ledger)

    p = subparsers.add_parser("replay", help="outflow rates side by side under several definitions")
    p.add_argument("--definition", dest="definitions", action="extend", nargs="+", metavar="NAME",
                   help="definitions to compare (default: every installed one)")
    p.add_argument("--by", choices=GROUPS, default="provider")
    p.add_argument("--only", choices=("rates", "differences"), help="print one of the two sections")
    _add_time_options(p)
    add_bundle_options(p)
    p.set_defaults(handler=bind(_replay))

    p = subparsers.add_parser("flags", help="attribution flags on placement claims")
    p.add_argument("--flag", dest="flags", action="extend", nargs="+", choices=FLAGS, metavar="FLAG",
                   help="only these flags: " + ", ".join(FLAGS))
    _add_time_options(p)
    add_bundle_options(p)
    p.set_defaults(handler=bind(_flags))

    p = subparsers.add_parser("payments", help="what each provider is owed per contract, and under other definitions")
    p.add_argument("--definition", dest="definitions", action="extend", nargs="+", metavar="NAME",
                   help="definitions to compare with (default: every installed one)")
    _add_time_options(p)
    add_bundle_options(p)
    p.set_defaults(handler=bind(_payments))

    p = subparsers.add_parser("report", help="the council report of a verified export: an .xlsx workbook or an .html page")
    p.add_argument("--bundle", required=True, metavar="PATH",
                   help="an export bundle directory or its .tar.gz: verified first (as 'verify' does)")
    add_trust_options(p, "")
    p.add_argument("--out", required=True, metavar="FILE", help="the file to write: its suffix, "
                   + " or ".join(SUFFIXES) + ", chooses the format")
    p.add_argument("--definition", dest="definitions", action="extend", nargs="+", metavar="NAME",
                   help="definitions to compare (default: every installed one)")
    p.add_argument("--as-known-at", type=_known_at_argument, metavar="DATE",
                   help="ignore entries recorded after this date (end of day, Europe/Amsterdam) or instant")
    p.add_argument("--peildatum", type=_date_argument, metavar="DATE",
                   help="measure at this date (default: the as-known-at date, else today)")
    p.set_defaults(handler=_council)

    p = subparsers.add_parser("read-models", help="bring the projection tables up to date")
    p.add_argument("--rebuild", action="store_true", help="empty them and apply every entry again")
    p.set_defaults(handler=lambda args: _read_models(args, open_ledger))


def _report(run: Report, args: argparse.Namespace, open_ledger: OpenLedger) -> int:
    """``run`` on the bundle's entries with --bundle (never opening the ledger), else on the ledger's."""
    if wants_bundle(args):
        return on_bundle(args, lambda entries: run(args, entries, None))
    ledger = open_ledger()
    try:
        return run(args, ledger, ledger.engine)
    finally:
        ledger.close()


def _given_peildatum(args: argparse.Namespace) -> date | None:
    """--peildatum, else the day of --as-known-at, else None."""
    if args.peildatum is not None:
        return args.peildatum  # type: ignore[no-any-return]
    if args.as_known_at is not None:
        return known_at_day(args.as_known_at)
    return None


def _peildatum(args: argparse.Namespace) -> date:
    """As ``_given_peildatum``, else today in the Netherlands (read here, at the edge)."""
    return _given_peildatum(args) or recording_date(now_utc())


def _known(args: argparse.Namespace) -> str:
    return args.as_known_at or "everything recorded"


def _definitions(registry: DefinitionRegistry, args: argparse.Namespace) -> list[Any]:
    return registry.resolve(args.definitions or registry.names())


def _replay(args: argparse.Namespace, source: EntrySource, engine: Engine | None) -> int:
    registry = installed()
    definitions = _definitions(registry, args)
    result = replay_ledger(source, engine, definitions, _peildatum(args), args.as_known_at, registry)
    tables, document = [], None  # only what the format prints: tables for text and CSV, a document for JSON
    if args.format != "json":
        if args.only in (None, "rates"):
            tables.append(rates_table(result, args.by, compact=args.format == "table"))
        if args.only in (None, "differences"):
            tables.append(differences_table(result))
    else:
        document = replay_document(result, args.by)
        if args.only == "rates":
            document.pop("differences")
        elif args.only == "differences":
            document.pop("rates")
    sys.stdout.write(render(args.format, tables, with_scope(document, source)))
    return 0


def _flags(args: argparse.Namespace, source: EntrySource, engine: Engine | None) -> int:
    peildatum = _given_peildatum(args)  # none: every fact known counts
    listing = flag_listing(load_dossiers(source, engine, args.as_known_at), peildatum, args.flags or ())
    shown = peildatum.isoformat() if peildatum else None
    title = f"Flagged claims ({len(listing)}) - peildatum {shown or 'none'}, as known at {_known(args)}"
    document = flags_document(listing, shown, args.as_known_at)
    sys.stdout.write(render(args.format, [flags_table(listing, title)], with_scope(document, source)))
    return 0


def _payments(args: argparse.Namespace, source: EntrySource, engine: Engine | None) -> int:
    registry = installed()
    definitions = _definitions(registry, args)
    peildatum = _peildatum(args)
    results = evaluate_ledger(source, engine, definitions, peildatum, args.as_known_at, registry)
    names = [d.name for d in definitions]
    dossiers = list(load_dossiers(source, engine, args.as_known_at))  # for shared fees and declined referrals
    rows = payments(results, names, shares(dossiers), declined_referrals(dossiers))
    title = f"Owed per contract (cents) - peildatum {peildatum}, as known at {_known(args)}"
    sys.stdout.write(render(args.format, [payments_table(rows, names, title)],
                            with_scope(payments_document(rows, peildatum.isoformat(), args.as_known_at), source)))
    return 0


def _council(args: argparse.Namespace) -> int:
    """``report``: the bundle verified (no report if it fails), then the council report written."""
    out = Path(args.out)
    write = writer(out)  # an unknown suffix fails before the bundle is read
    registry = installed()
    definitions = _definitions(registry, args)
    peildatum = _peildatum(args)

    def run(bundle: VerifiedBundle) -> int:
        basis = bundle_basis(bundle, peildatum, args.as_known_at)
        results = evaluate_ledger(bundle.entries, None, definitions, peildatum, args.as_known_at, registry)
        report = council_report(results, load_dossiers(bundle.entries, None, args.as_known_at), definitions, basis)
        write(report, out)
        print(f"wrote {out} ({out.suffix[1:]}: {len(report.tables)} tables, {len(results)} trajectories) - "
              f"peildatum {basis.peildatum}, as known at {_known(args)}, "
              f"checkpoint {basis.checkpoint_size} {basis.checkpoint_root}")
        return 0

    return on_verified(args, run)


def _read_models(args: argparse.Namespace, open_ledger: OpenLedger) -> int:
    ledger = open_ledger()
    try:
        models = ReadModels(ledger.engine)
        applied = models.rebuild(ledger) if args.rebuild else models.catch_up(ledger)
        print(f"applied {applied} entries; read models are at log index {models.last_applied()}")
    finally:
        ledger.close()
    return 0
