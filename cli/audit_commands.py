"""CLI subcommands of an audit of provider claims: ``sample`` and ``audit-result`` (issue 15).

Both read a verified export (``--bundle PATH``, as the reports do: ``cli.bundle_input``) and
no database. ``sample`` draws a stratified sample seeded by the root hash of the signed
checkpoint the auditor names (``--checkpoint NOTE``; the verifier proves the bundle's log
extends it, step 8) over the population as of that checkpoint (``projections.sampling``,
``projections.audit_sample``). ``audit-result`` reads such a sample (JSON), redraws it from
the bundle to prove it is that draw, and estimates the error rate and the amount at risk
from the auditors' ``AuditFinding`` entries (``projections.audit_result``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from cli.bundle_input import add_options as add_bundle_options
from cli.bundle_input import on_bundle
from ledger.domain.checkpoint import MalformedCheckpointError
from ledger.domain.dossier.state import DossierState
from ledger.verify.checkpoints import note_body
from projections import audit_result as ar
from projections.audit_sample import (
    POPULATIONS,
    SAMPLE_COLUMNS,
    STRATA,
    InvalidSample,
    draw_sample,
    entries_through,
    finding_of,
    latest_findings,
    read_sample,
)
from projections.history import fold, parse_known_at
from projections.render import FORMATS, Table, render
from projections.sampling import DRAW_METHOD_TEXT
from projections.source import EntrySource, iter_entries

DEFAULT_MINIMUM = 2


def _known_at_argument(text: str) -> str:
    try:
        return parse_known_at(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected YYYY-MM-DD or an ISO 8601 instant with a zone, not {text!r}") from exc


def add_commands(subparsers: Any) -> None:
    p = subparsers.add_parser("sample", help="a stratified audit sample seeded by a signed checkpoint's root hash")
    p.add_argument("--checkpoint", required=True, metavar="NOTE",
                   help="a file holding the signed checkpoint (C2SP note) whose root hash seeds the draw")
    p.add_argument("--size", required=True, type=int, metavar="N", help="elements to draw in all")
    p.add_argument("--strata", choices=STRATA, default="provider")
    p.add_argument("--population", choices=POPULATIONS, default="claims",
                   help="confirmed placement claims (default) or commissioned trajectories")
    p.add_argument("--minimum-per-stratum", type=int, default=DEFAULT_MINIMUM, metavar="M",
                   help=f"at least this many from each stratum (or all of a smaller one; default {DEFAULT_MINIMUM})")
    p.add_argument("--as-known-at", type=_known_at_argument, metavar="DATE",
                   help="also leave out what was recorded after this date or instant")
    p.add_argument("--format", choices=FORMATS, default="table")
    add_bundle_options(p)
    p.set_defaults(handler=_sample)

    p = subparsers.add_parser("audit-result", help="error rate and amount at risk of an audited sample")
    p.add_argument("--sample", required=True, metavar="FILE", help="the sample as 'sample --format json' wrote it")
    p.add_argument("--unverifiable", choices=("error", "excluded"), default="error",
                   help="an 'unverifiable' finding counts as an error (default: not accepted as paid for) "
                        "or is left out of the rate and the amount at risk")
    p.add_argument("--format", choices=FORMATS, default="table")
    add_bundle_options(p)
    p.set_defaults(handler=_audit_result)


def _needs_bundle(args: argparse.Namespace) -> None:
    if args.bundle is None:
        raise ValueError("an audit reads a verified export: add --bundle PATH")
    if args.against is not None:
        raise ValueError("--against does not apply here: the log is verified against the audit's checkpoint")


def _draw(source: EntrySource, note: bytes, kind: str, strata: str, size: int, minimum: int,
          as_known_at: str | None) -> dict[str, Any]:
    checkpoint = note_body(note)
    dossiers = sorted(fold(entries_through(source, checkpoint.size), as_known_at).items())
    return draw_sample(dossiers, seed=checkpoint.root_hash, origin=checkpoint.origin, tree_size=checkpoint.size,
                       note=note.decode("utf-8"), kind=kind, strata=strata, size=size, minimum=minimum,
                       as_known_at=as_known_at)


def _sample(args: argparse.Namespace) -> int:
    _needs_bundle(args)
    note = Path(args.checkpoint).read_bytes()
    try:
        note_body(note)
    except MalformedCheckpointError as exc:
        raise ValueError(f"--checkpoint: not a signed checkpoint: {exc}") from exc
    args.against = args.checkpoint  # step 8: the note is signed, and the bundle's log extends it

    def report(source: EntrySource) -> int:
        document = _draw(source, note, args.population, args.strata, args.size, args.minimum_per_stratum,
                         args.as_known_at)
        sys.stdout.write(render(args.format, sample_tables(document), document))
        return 0

    return on_bundle(args, report)


def sample_tables(document: dict[str, Any]) -> list[Table]:
    c = document["checkpoint"]
    title = (f"Audit sample of {document['size']} {document['population']} by {document['strata']} - seed "
             f"{document['seed']} (root of {c['origin']} at tree size {c['tree_size']}); method: {DRAW_METHOD_TEXT}")
    allocation = Table(title, ["stratum", "population", "allocated"],
                       [[a["stratum"], a["population"], a["allocated"]] for a in document["allocation"]]
                       + [["(all)", document["population_size"], sum(a["allocated"] for a in document["allocation"])]])
    rows = Table(f"Sampled {document['population']} ({len(document['sample'])})", list(SAMPLE_COLUMNS),
                 [[row[col] for col in SAMPLE_COLUMNS] for row in document["sample"]])
    return [allocation, rows]


def _audit_result(args: argparse.Namespace) -> int:
    _needs_bundle(args)
    try:
        sample = read_sample(json.loads(Path(args.sample).read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise InvalidSample(f"not JSON: {exc}", field="--sample") from exc
    note = sample["checkpoint"]["note"].encode("utf-8")
    with tempfile.TemporaryDirectory() as scratch:
        kept = Path(scratch) / "checkpoint"
        kept.write_bytes(note)
        args.against = str(kept)  # step 8 proves the bundle's log extends the sample's checkpoint

        def report(source: EntrySource) -> int:
            redrawn = _draw(source, note, sample["population"], sample["strata"], sample["size"],
                            sample["minimum_per_stratum"], sample["as_known_at"])
            if redrawn["sample"] != sample["sample"] or redrawn["allocation"] != sample["allocation"]:
                raise InvalidSample("the sample file is not the draw its checkpoint and parameters give: "
                                    "redraw it with 'trajectledger sample'", field="--sample")
            dossiers = fold(iter_entries(source))
            document = result_document(sample, dossiers, args.unverifiable == "error")
            sys.stdout.write(render(args.format, result_tables(document), document))
            return 0

        return on_bundle(args, report)


def result_document(sample: dict[str, Any], dossiers: dict[str, DossierState],
                    unverifiable_is_error: bool = True) -> dict[str, Any]:
    """Findings as recorded now, matched to the sampled elements (a trajectory: its claims' worst finding)."""
    findings = latest_findings(dossiers)
    audited: dict[str, list[tuple[str, str, int]]] = {a["stratum"]: [] for a in sample["allocation"]}
    outcomes: dict[str, list[str]] = {a["stratum"]: [] for a in sample["allocation"]}
    rows = []
    for row in sample["sample"]:
        found = finding_of(row, sample["population"], dossiers, findings)
        outcome = None if found is None else str(found["outcome"])
        rows.append({**row, "finding": outcome})
        if outcome is not None:
            audited[row["stratum"]].append((row["provider"], outcome, row["fee_cents"]))
            outcomes[row["stratum"]].append(outcome)
    sizes = {a["stratum"]: a["population"] for a in sample["allocation"]}
    drawn = {a["stratum"]: a["allocated"] for a in sample["allocation"]}
    return {
        "seed": sample["seed"], "checkpoint": {k: v for k, v in sample["checkpoint"].items() if k != "note"},
        "population": sample["population"], "strata": sample["strata"], "method": ar.method(unverifiable_is_error),
        "rates": [vars(r) for r in ar.rates(sizes, drawn, outcomes, unverifiable_is_error)],
        "at_risk": [vars(r) for r in ar.at_risk(sizes, audited, unverifiable_is_error)],
        "sample": rows,
    }


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def result_tables(document: dict[str, Any]) -> list[Table]:
    c = document["checkpoint"]
    rates = Table(f"Error rate by {document['strata']} - sample seeded by {c['root_hash'][:16]}... (tree size "
                  f"{c['tree_size']}); {document['method']}",
                  ["stratum", "population", "sampled", "audited", "upheld", "not_upheld", "unverifiable", "error_rate",
                   "ci95_low", "ci95_high"],
                  [[r["stratum"], r["population"], r["sampled"], r["audited"], r["upheld"], r["not_upheld"],
                    r["unverifiable"], _share(r["rate"]), _share(r["low"]), _share(r["high"])]
                   for r in document["rates"]])
    risk = Table("Amount at risk (cents): in the sample, and extrapolated to the population with a 95% interval",
                 ["provider", "in_sample", "estimate", "ci95_low", "ci95_high"],
                 [[r["provider"], r["in_sample_cents"], r["estimate_cents"], r["low_cents"], r["high_cents"]]
                  for r in document["at_risk"]])
    return [rates, risk]
