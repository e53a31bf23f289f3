"""CLI subcommands of the incentive indicators (issue 16): ``indicators`` and ``follow-ups``.

Both read entries as the other reports do (``cli.report_commands``): from the ledger (with no keys
configured, its database read with ``ledger.reader``), or with
``--bundle PATH`` from a verified export, with no database, keys or settings. The dossiers are
those known at ``--as-known-at``, measured at ``--peildatum``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from sqlalchemy import Engine

from cli.bundle_input import add_options as add_bundle_options
from cli.report_commands import OpenLedger, Report, _add_time_options, _known, _peildatum, _report
from projections.indicators.follow_up import plan
from projections.indicators.parking import DEFAULT_WEEKS
from projections.indicators.report import (
    comparison_table,
    indicators,
    indicators_document,
    measures_table,
    only_areas,
)
from projections.indicators.tally import AREAS, BYS
from projections.render import Table, render
from projections.replay import load_dossiers
from projections.source import EntrySource

PLAN_STATES = ("recorded", "upcoming", "due", "overdue")


def _weeks(text: str) -> int:
    try:
        weeks = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number of weeks, not {text!r}") from exc
    if not 1 <= weeks <= 104:
        raise argparse.ArgumentTypeError(f"--parking-weeks is 1 to 104, not {weeks}")
    return weeks


def add_commands(subparsers: Any, open_ledger: OpenLedger) -> None:
    def bind(run: Report) -> Any:
        return lambda args: _report(run, args, open_ledger)

    p = subparsers.add_parser("indicators", help="selection, parking, durability, deadweight, follow-up and cooperation, "
                                                 "and No Cure No Pay beside No Cure Less Pay")
    p.add_argument("--by", choices=BYS, default="provider")
    p.add_argument("--parking-weeks", type=_weeks, default=DEFAULT_WEEKS, metavar="N",
                   help=f"a trajectory is parked after N weeks without activity (default {DEFAULT_WEEKS})")
    p.add_argument("--only", choices=("measures", "comparison"), help="print one of the two sections")
    p.add_argument("--area", dest="areas", action="extend", nargs="+", choices=AREAS, metavar="AREA",
                   help="only these areas: " + ", ".join(AREAS))
    _add_time_options(p)
    add_bundle_options(p)
    p.set_defaults(handler=bind(_indicators))

    p = subparsers.add_parser("follow-ups", help="the follow-up plan: each ended trajectory's moments at 6, 12 and 18 "
                                                 "months, recorded, upcoming, due or overdue")
    p.add_argument("--state", dest="states", action="extend", nargs="+", choices=PLAN_STATES, metavar="STATE",
                   help="only these: " + ", ".join(PLAN_STATES))
    _add_time_options(p)
    add_bundle_options(p)
    p.set_defaults(handler=bind(_follow_ups))


def _indicators(args: argparse.Namespace, source: EntrySource, engine: Engine | None) -> int:
    peildatum = _peildatum(args)
    result = indicators(load_dossiers(source, engine, args.as_known_at), args.by, peildatum, args.parking_weeks)
    if args.areas:
        result = only_areas(result, args.areas)
    compact = args.format == "table"
    tables, document = [], indicators_document(result, args.as_known_at)
    if args.only in (None, "measures"):
        tables.append(measures_table(result, compact))
    else:
        document.pop("measures")
    if args.only in (None, "comparison"):
        tables.append(comparison_table(result, compact))
    else:
        document.pop("comparison")
    sys.stdout.write(render(args.format, tables, document))
    return 0


def _follow_ups(args: argparse.Namespace, source: EntrySource, engine: Engine | None) -> int:
    peildatum = _peildatum(args)
    rows = plan(load_dossiers(source, engine, args.as_known_at), peildatum.isoformat())
    states = Counter(row.state for row in rows)
    due = [row for row in rows if row.state != "upcoming"]
    reached = sum(1 for row in due if row.status not in (None, "not-reached"))
    rate = f"{100 * reached / len(due):.1f}%" if due else "-"
    shown = [row for row in rows if not args.states or row.state in args.states]
    title = (f"Follow-up plan - peildatum {peildatum}, as known at {_known(args)}: "
             + ", ".join(f"{states[s]} {s}" for s in PLAN_STATES) + f"; response rate {rate} ({reached}/{len(due)} due)")
    columns = ["client_ref", "trajectory_id", "funder", "provider", "follow_up_by", "ended", "moment", "due_on", "state",
               "status"]
    table = Table(title, columns, [[getattr(row, c) for c in columns] for row in shown])
    document = {"peildatum": peildatum.isoformat(), "as_known_at": args.as_known_at,
                "counts": {s: states[s] for s in PLAN_STATES}, "response": {"reached": reached, "due": len(due)},
                "moments": [dict(zip(columns, row, strict=True)) for row in table.rows]}
    sys.stdout.write(render(args.format, [table], document))
    return 0
