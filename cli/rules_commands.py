"""The dossier rules' versions: ``rules show`` and ``rules adopt VERSION`` (operator).

A ledger decides under the rules version in force, a signed and logged fact
(``ledger.domain.dossier.versions``). ``adopt`` signs a ``RulesAdopted`` registry entry with the
operator key and submits it, like the ``party`` commands; from the next entry on, every
submission is decided - and re-decided by any verifier - under the new version.
"""

from __future__ import annotations

import argparse
from typing import Any

from cli.operator_target import add_target_options
from cli.party_commands import EXIT_OK, OpenLedger, registry_history, submit
from ledger.domain.dossier.versions import FIRST_RULES, JOB_START_LIMIT_DAYS, LATEST_RULES
from ledger.domain.registry.state import OPERATOR

WHAT = {
    1: "a placement's job_start may not lie after the day the claim is recorded (dates.not-future)",
    2: f"a placement may be claimed for a job starting up to {JOB_START_LIMIT_DAYS} days after the claim date "
       "(dates.job-start-too-far beyond it)",
}


def add_commands(subparsers: Any, open_ledger: OpenLedger) -> None:
    rules = subparsers.add_parser("rules", help="the dossier rules' version in force; adopt a newer one (operator)")
    commands = rules.add_subparsers(dest="rules_command", required=True)
    p = commands.add_parser("show", help="the rules version in force, since which log index, and what each version says")
    p.set_defaults(handler=lambda args: cmd_show(args, open_ledger))
    p = commands.add_parser("adopt", help="move the ledger to a newer rules version (a signed, logged RulesAdopted entry)")
    p.add_argument("version", type=int, help=f"the version to adopt ({FIRST_RULES + 1} to {LATEST_RULES})")
    add_target_options(p)
    p.set_defaults(handler=lambda args: cmd_adopt(args, open_ledger))


def cmd_show(args: argparse.Namespace, open_ledger: OpenLedger) -> int:
    ledger = open_ledger()
    try:
        in_force = ledger.current_registry().rules
        adopted = registry_history(ledger).adopted
    finally:
        ledger.close()
    since = f"adopted at log index {adopted[in_force]}" if in_force in adopted else "since the genesis entry"
    print(f"rules version {in_force} in force ({since}); this ledger knows versions {FIRST_RULES} to {LATEST_RULES}")
    for version in range(FIRST_RULES, LATEST_RULES + 1):
        marker = "*" if version == in_force else " "
        print(f" {marker} {version}: {WHAT[version]}")
    return EXIT_OK


def cmd_adopt(args: argparse.Namespace, open_ledger: OpenLedger) -> int:
    return submit(args, open_ledger, f"RulesAdopted version {args.version}", "RulesAdopted",
                  party_id=OPERATOR, rules_version=args.version)
