"""``trajectledger rules show|adopt`` on SQLite and PostgreSQL: a claim for a job that starts
next month is refused under rules 1; after ``rules adopt 2`` (a signed, logged entry) the same
claim is accepted; the export verifies, the verifier re-deciding each entry under the rules in
force when it was recorded; a tampered adoption is caught."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from ledger.application import Ledger
from ledger.bundle.export import export_bundle
from ledger.domain.entry import now_utc, recording_date
from ledger.settings import Settings
from ledger.verify import verify_bundle
from tests.integration.test_party_commands import Cli, accepted_at
from tests.integration.test_party_commands import cli as cli  # noqa: F401 (the fixture)
from tests.support import World, claim, commission


def test_a_claim_for_next_month_is_accepted_once_rules_2_are_adopted(cli: Cli, tmp_path: Path) -> None:
    today = recording_date(now_utc())
    world = World(Ledger(Settings.from_environ()))  # the keys the commands use
    world.register("gemeente-haarlem", "funder")
    world.register("werkfit", "provider")
    ref = "cd" * 32
    commissioned = commission(ref, start=(today - timedelta(days=60)).isoformat(),
                              planned_end=(today + timedelta(days=300)).isoformat())
    assert world.submit("gemeente-haarlem", commissioned).accepted

    def claim_next_month() -> dict[str, object]:
        return claim(ref, commissioned["trajectory_id"], job_start=(today + timedelta(days=35)).isoformat(),
                     application_date=(today - timedelta(days=10)).isoformat(), occurred_on=today.isoformat())

    before = world.submit("werkfit", claim_next_month())
    assert not before.accepted and before.refusal is not None
    assert (before.refusal["rule"], before.refusal["field"]) == ("dates.not-future", "payload.job_start")

    shown = cli.ok("rules", "show")
    assert shown.splitlines()[0] == "rules version 1 in force (since the genesis entry); this ledger knows versions 1 to 2"
    adopted_at = accepted_at(cli.ok("rules", "adopt", "2"))
    shown = cli.ok("rules", "show")
    assert shown.splitlines()[0].startswith(f"rules version 2 in force (adopted at log index {adopted_at})")
    assert re.search(r"^ \* 2: a placement may be claimed for a job starting up to 92 days", shown, re.M)
    code, out, _ = cli.run("rules", "adopt", "2")
    assert code == 1 and "rules.not-newer [payload.rules_version]" in out  # refused, and recorded as refused

    after = world.submit("werkfit", claim_next_month())
    assert after.accepted, after.refusal
    too_far = claim(ref, commissioned["trajectory_id"], kvk="87654321", job_start=(today + timedelta(days=93)).isoformat(),
                    application_date=today.isoformat(), occurred_on=today.isoformat())
    refused = world.submit("werkfit", too_far)
    assert refused.refusal is not None and refused.refusal["rule"] == "dates.job-start-too-far"

    export_bundle(world.ledger, tmp_path / "bundle")
    verified = verify_bundle(tmp_path / "bundle")  # re-decides the refusal under 1 and the acceptance under 2
    assert verified.tree_size == world.ledger.log_size()
    world.ledger.close()


def test_adopting_an_older_or_unknown_version_is_refused(cli: Cli) -> None:
    code, out, err = cli.run("rules", "adopt", "1")  # never adoptable: malformed, not recorded
    assert code == 2 and "payload.rules_version" in err, (out, err)
    code, out, _ = cli.run("rules", "adopt", "3")  # unknown to this ledger: refused, and recorded as refused
    assert code == 1 and "rules.unknown-version [payload.rules_version]" in out, out
    assert cli.ok("rules", "show").startswith("rules version 1 in force")
