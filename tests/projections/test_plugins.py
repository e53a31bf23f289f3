"""Definitions as plugins: the entry-point group, failing closed, and the worked example."""

from __future__ import annotations

import textwrap
import uuid
from datetime import date
from pathlib import Path

import pytest

from ledger.domain.dossier.state import DossierState
from projections.definitions import BUILTIN_NAMES, SUCCESS, Definition, DefinitionRegistry, Verdict, six_month_rule
from projections.definitions.registry import ENTRY_POINT_GROUP
from projections.errors import DuplicateDefinition, InvalidPlugin, UnknownDefinition
from projections.examples import employed_q2
from projections.read_models import ReadModels
from tests.projections.support import Client, day
from tests.support import World


def install_plugin(root: Path, entry_points: str, module: str = "") -> None:
    """A distribution on sys.path, as ``pip install`` would leave it. Its module gets a name
    of its own (``audit_plugin`` in ``entry_points`` is replaced), so no test sees another's
    module cached in ``sys.modules``."""
    name = "audit_plugin_" + uuid.uuid4().hex[:8]
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry_points.replace('audit_plugin', name)}\n")
    if module:
        (root / f"{name}.py").write_text(textwrap.dedent(module))


PLUGIN = """
    from projections.definitions.base import Definition, Verdict

    def judge(dossier, trajectory_id, peildatum):
        return Verdict("success", "always", "", dossier.trajectories[trajectory_id]["provider"])

    DEFINITION = Definition("always", "0.1", "every trajectory succeeds", judge)
"""


def test_installed_plugins_are_found_through_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, "always = audit_plugin:DEFINITION", PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = DefinitionRegistry()
    loaded = registry.load_plugins()
    assert "always" in loaded
    assert set(loaded) <= {"always", "employed-q2"}  # the project installs its worked example too
    assert registry.names()[:len(BUILTIN_NAMES)] == BUILTIN_NAMES and "always" in registry.names()
    assert registry.get("always").version == "0.1"


def test_the_worked_example_loads_as_a_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(tmp_path, "employed-q2 = projections.examples.employed_q2:DEFINITION")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = DefinitionRegistry()
    registry.load_plugins()
    assert registry.get("employed-q2") is employed_q2.DEFINITION


@pytest.mark.parametrize(("line", "module", "says"), [
    ("broken = audit_plugin:DEFINITION", "raise ImportError('missing dependency')", "missing dependency"),
    ("notone = audit_plugin:VALUE", "VALUE = 42", "is not a Definition"),
    ("other-name = audit_plugin:DEFINITION", PLUGIN, "loads a definition named 'always'"),
])
def test_a_plugin_that_does_not_load_is_an_error_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, module: str, says: str
) -> None:
    install_plugin(tmp_path, line, module)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InvalidPlugin) as error:
        DefinitionRegistry().load_plugins()
    assert error.value.rule == "definition.plugin"
    assert says in error.value.detail


def test_a_plugin_cannot_replace_a_built_in_definition() -> None:
    impostor = Definition("six-month-rule", "2", "lenient", lambda d, t, p: Verdict(SUCCESS, "x"))
    with pytest.raises(DuplicateDefinition):
        DefinitionRegistry().register(impostor)


def test_an_unknown_name_is_refused_with_the_known_ones_listed() -> None:
    with pytest.raises(UnknownDefinition) as error:
        DefinitionRegistry().resolve(["six-month-rule", "paswerk-2008"])
    assert "ladder-step" in error.value.detail


def test_a_composite_plugin_needs_its_components() -> None:
    composite = Definition("both", "1", "", lambda d, t, p: Verdict(SUCCESS, "x"), components=("missing",))
    registry = DefinitionRegistry()
    registry.register(composite)
    with pytest.raises(UnknownDefinition):
        registry.resolve(["both"])


# --- employed-q2, the worked example ----------------------------------------------------


def placed(world: World, name: str, contract_end: str | None) -> tuple[DossierState, str]:
    client = Client.named(world, name)
    tid = client.commission("2024-01-01", "2024-12-31", definition="employed-q2")
    client.placed(tid, application_date="2024-02-01", job_start="2024-03-01", contract_end=contract_end)
    client.end(tid, "2024-05-15")  # Q2 2024; two quarters later is Q4: reference day 2024-12-31
    return client.dossier(), tid


def test_employed_q2_looks_at_the_end_of_the_second_quarter_after_the_end(world: World) -> None:
    dossier, tid = placed(world, "q2-indefinite", None)
    assert employed_q2.judge(dossier, tid, day("2024-12-30")).reason == "quarter-not-over"
    verdict = employed_q2.judge(dossier, tid, day("2024-12-31"))
    assert (verdict.outcome, verdict.credited_provider) == (SUCCESS, "werkfit")


def test_employed_q2_fails_when_the_contract_ended_before_the_reference_day(world: World) -> None:
    dossier, tid = placed(world, "q2-short", "2024-12-30")
    verdict = employed_q2.judge(dossier, tid, date(2025, 1, 1))
    assert (verdict.outcome, verdict.reason) == ("failure", "not-employed-on-reference-day")


def test_the_read_models_judge_a_plugin_from_the_stored_dossiers(world: World) -> None:
    dossier, tid = placed(world, "q2-stored", None)
    models = ReadModels(world.ledger.engine)
    models.catch_up(world.ledger)
    registry = DefinitionRegistry()
    registry.register(employed_q2.DEFINITION)
    [result] = models.evaluate([six_month_rule.DEFINITION], day("2025-06-01"), registry)
    assert result.contract_definition == "employed-q2"
    assert result.contract_verdict == employed_q2.judge(dossier, tid, day("2025-06-01"))
    assert result.contract_verdict is not None and result.contract_verdict.outcome == SUCCESS
