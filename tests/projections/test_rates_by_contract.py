"""Outflow rates under each trajectory's own contract definition: a contract naming a
definition that is not installed is counted apart (``unjudged``), in no outcome."""

from __future__ import annotations

from datetime import date

from projections.definitions.base import FAILURE, PENDING, SUCCESS, Verdict
from projections.evaluation import TrajectoryResult
from projections.replay import Counts, Replay


def result(cohort: str, contract_definition: str, **verdicts: str) -> TrajectoryResult:
    return TrajectoryResult(f"t-{cohort}-{contract_definition}-{len(verdicts)}", "c", "gemeente", "werkfit",
                            f"{cohort}-03-01", "no-cure-no-pay", contract_definition, 0, 0,
                            {name: Verdict(outcome, "reason") for name, outcome in verdicts.items()})


def test_each_trajectory_counts_under_the_definition_its_contract_named() -> None:
    results = [
        result("2023", "a", a=SUCCESS, b=FAILURE),
        result("2023", "b", a=SUCCESS, b=FAILURE),
        result("2024", "b", a=PENDING, b=SUCCESS),
        result("2024", "retired-plugin", a=SUCCESS, b=SUCCESS),  # its contract's definition is not installed
    ]
    rows = Replay((), date(2025, 1, 1), None, results).rates("cohort")
    assert [(r.group, r.contract, r.unjudged) for r in rows] == [
        ("2023", Counts(1, 1, 0), 0),
        ("2024", Counts(1, 0, 0), 1),
        ("(all)", Counts(2, 1, 0), 1),
    ]
    assert rows[-1].as_dict()["by_contract"] == {"success": 2, "failure": 1, "pending": 0, "rate": 2 / 3, "unjudged": 1}
