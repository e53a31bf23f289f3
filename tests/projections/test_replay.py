"""Replay: as known at T, measured at peildatum P, rates side by side, differences,
and the CLI subcommands that print them."""

from __future__ import annotations

import argparse
import csv
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest

from cli.report_commands import add_commands
from ledger.application import Ledger
from projections.definitions import BUILTIN, DefinitionRegistry
from projections.errors import UnknownDefinition
from projections.history import dossiers_as_known_at, known_at_day, parse_known_at
from projections.read_models import ReadModels
from projections.replay import ALL_GROUPS, load_dossiers, replay
from tests.projections.support import JOBSTAP, UWV, WERKFIT, Client, day
from tests.support import World

TWO = [d for d in BUILTIN if d.name in ("six-month-rule", "ladder-step")]


@dataclass
class Population:
    world: World
    month_five: str  # six-month-rule failure, ladder-step success
    clean: str  # both succeed
    uwv_running: str  # UWV / jobstap, 2025 cohort, still running at 2025-03-01
    cut: str  # as-known-at instant after the first two stories, before the third


@pytest.fixture
def population(world: World) -> Population:
    a = Client.named(world, "month-five")
    benefit = a.benefit("2023-06-01")
    month_five = a.commission("2024-01-01", "2024-12-31")
    a.intake(month_five, 2, "2024-01-10")
    a.assess(month_five, 4, "2024-03-01")
    a.placed(month_five, application_date="2024-02-01", job_start="2024-03-01")
    a.end_benefit(benefit, "2024-02-29")
    a.end(month_five, "2024-03-31")
    a.benefit("2024-08-15", "WW", funder=UWV)

    b = Client.named(world, "clean")
    clean = b.commission("2024-01-01", "2024-12-31")
    b.intake(clean, 3, "2024-01-10")
    b.assess(clean, 6, "2024-03-20")
    b.placed(clean, application_date="2024-02-01", job_start="2024-03-15")
    b.end(clean, "2024-03-31")
    cut = world.ledger.entries(world.ledger.log_size() - 1, 1)[0][1]["recorded_at"]

    c = Client.named(world, "uwv-running")
    uwv_running = c.commission("2025-01-01", "2025-12-31", funder=UWV, provider=JOBSTAP, definition="ladder-step")
    c.intake(uwv_running, 1, "2025-01-05", provider=JOBSTAP)
    b.benefit("2024-12-01")  # after the cut: the clean story's six months were clean anyway
    return Population(world, month_five, clean, uwv_running, cut)


def test_rates_side_by_side_per_provider_with_counts(population: Population) -> None:
    result = replay(sorted(dossiers_as_known_at(population.world.ledger).items()), TWO, day("2025-03-01"))
    rows = {r.group: r for r in result.rates("provider")}
    assert set(rows) == {WERKFIT, JOBSTAP, ALL_GROUPS}
    six, ladder = rows[WERKFIT].counts["six-month-rule"], rows[WERKFIT].counts["ladder-step"]
    assert (rows[WERKFIT].trajectories, six.success, six.failure, six.pending, six.rate) == (2, 1, 1, 0, 0.5)
    assert (ladder.success, ladder.failure, ladder.rate) == (2, 0, 1.0)
    running = rows[JOBSTAP].counts["ladder-step"]
    assert (running.pending, running.rate) == (1, None)
    assert rows[ALL_GROUPS].trajectories == 3
    assert [d.trajectory_id for d in result.differences()] == [population.month_five]


def test_rates_per_funder_and_cohort(population: Population) -> None:
    result = replay(sorted(dossiers_as_known_at(population.world.ledger).items()), TWO, day("2025-03-01"))
    assert [r.group for r in result.rates("cohort")] == ["2024", "2025", ALL_GROUPS]
    assert [(r.group, r.trajectories) for r in result.rates("funder")] == [
        ("gemeente-haarlem", 2), (UWV, 1), (ALL_GROUPS, 3)]


def test_the_peildatum_leaves_out_trajectories_not_yet_started(population: Population) -> None:
    result = replay(sorted(dossiers_as_known_at(population.world.ledger).items()), TWO, day("2024-12-31"))
    assert {r.trajectory_id for r in result.results} == {population.month_five, population.clean}


def test_as_known_at_ignores_what_was_recorded_later(population: Population) -> None:
    ledger = population.world.ledger
    earlier = dossiers_as_known_at(ledger, population.cut)
    assert len(earlier) == 2
    result = replay(sorted(earlier.items()), TWO, day("2025-03-01"), population.cut)
    assert {r.trajectory_id for r in result.results} == {population.month_five, population.clean}
    prefix = [e for e in ledger.entries(0, 1000) if e[1]["recorded_at"] <= population.cut]
    models = ReadModels(ledger.engine)
    models.catch_up(_Prefix(prefix))
    assert dict(models.dossiers()) == earlier


class _Prefix:
    def __init__(self, entries: list[tuple[int, dict[str, Any]]]) -> None:
        self._entries = entries

    def entries(self, start: int = 0, limit: int = 1000) -> list[tuple[int, dict[str, Any]]]:
        return self._entries[start:start + limit]


def test_load_dossiers_reads_the_read_models_when_there_is_no_cut(population: Population) -> None:
    ledger = population.world.ledger
    assert list(load_dossiers(ledger, ledger.engine, None)) == sorted(dossiers_as_known_at(ledger).items())
    assert ReadModels(ledger.engine).last_applied() == ledger.log_size() - 1


def test_parse_known_at_takes_a_dutch_day_or_an_instant() -> None:
    assert parse_known_at("2024-07-01") == "2024-07-01T21:59:59.999999Z"  # CEST: UTC+2
    assert parse_known_at("2024-01-01") == "2024-01-01T22:59:59.999999Z"  # CET: UTC+1
    assert parse_known_at("2024-01-01T10:00:00+01:00") == "2024-01-01T09:00:00.000000Z"
    assert known_at_day("2024-01-01T23:30:00.000000Z").isoformat() == "2024-01-02"
    with pytest.raises(ValueError):
        parse_known_at("2024-01-01T10:00:00")  # no zone: ambiguous


# --- the CLI ---------------------------------------------------------------------------


def run_cli(world: World, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="trajectledger")
    add_commands(parser.add_subparsers(dest="command", required=True), lambda: Ledger(world.ledger.settings))
    args = parser.parse_args(argv)
    code = args.handler(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_replay_json(population: Population, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(population.world, capsys, "replay", "--definition", "six-month-rule", "ladder-step",
                           "--peildatum", "2025-03-01", "--by", "funder", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert [d["name"] for d in document["definitions"]] == ["six-month-rule", "ladder-step"]
    total = document["rates"][-1]
    assert total["group"] == ALL_GROUPS and total["outcomes"]["six-month-rule"]["rate"] == 0.5
    [difference] = document["differences"]
    assert difference["trajectory_id"] == population.month_five
    assert difference["verdicts"]["six-month-rule"]["reason"] == "benefit-within-six-months"


def test_cli_replay_csv_sections_and_as_known_at(population: Population, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(population.world, capsys, "replay", "--definition", "six-month-rule",
                           "--definition", "ladder-step", "--as-known-at", population.cut,
                           "--peildatum", "2025-03-01", "--format", "csv")
    assert code == 0
    rates, differences = out.split("\n\n")
    rows = list(csv.DictReader(io.StringIO(rates)))
    assert [r["provider"] for r in rows] == [WERKFIT, ALL_GROUPS]  # jobstap's trajectory came later
    assert rows[0]["six-month-rule:rate"] == "0.5000"
    assert [r["trajectory_id"] for r in csv.DictReader(io.StringIO(differences))] == [population.month_five]


def test_cli_replay_table(population: Population, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(population.world, capsys, "replay", "--peildatum", "2025-03-01", "--only", "rates")
    assert code == 0
    assert out.startswith("Outflow by provider - peildatum 2025-03-01")
    assert "50.0% (1/1/0)" in out and "composite-2009 rate (s/f/p)" in out
    assert "judged differently" not in out


def test_cli_unknown_definition_is_a_typed_error(population: Population, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UnknownDefinition) as error:
        run_cli(population.world, capsys, "replay", "--definition", "paswerk-2008")
    assert error.value.rule == "definition.unknown" and "paswerk-2008" in error.value.detail
    assert capsys.readouterr().out == ""


def test_cli_flags_and_payments(population: Population, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(population.world, capsys, "flags", "--flag", "revolving-door", "--format", "json")
    assert code == 0
    assert [f["flag"] for f in json.loads(out)["flags"]] == ["revolving-door"]
    code, out, _ = run_cli(population.world, capsys, "payments", "--peildatum", "2025-03-01", "--format", "csv")
    assert code == 0
    rows = {(r["funder"], r["provider"]): r for r in csv.DictReader(io.StringIO(out))}
    werkfit = rows[("gemeente-haarlem", WERKFIT)]
    assert (werkfit["owed_cents"], werkfit["owed_if:ladder-step"]) == ("300000", "600000")


def test_cli_read_models(population: Population, capsys: pytest.CaptureFixture[str]) -> None:
    size = population.world.ledger.log_size()
    code, out, _ = run_cli(population.world, capsys, "read-models")
    assert (code, out) == (0, f"applied {size} entries; read models are at log index {size - 1}\n")
    code, out, _ = run_cli(population.world, capsys, "read-models", "--rebuild")
    assert out.startswith(f"applied {size} entries")


def test_replay_of_a_registered_plugin_needs_no_code_change(population: Population) -> None:
    from projections.examples.employed_q2 import DEFINITION as EMPLOYED_Q2

    registry = DefinitionRegistry()
    registry.register(EMPLOYED_Q2)
    chosen = registry.resolve(["six-month-rule", "employed-q2"])
    result = replay(sorted(dossiers_as_known_at(population.world.ledger).items()), chosen, day("2025-03-01"),
                    registry=registry)
    verdicts = {r.trajectory_id: r.verdicts["employed-q2"].outcome for r in result.results}
    assert verdicts[population.clean] == "success"  # indefinite job, still on 2024-09-30
