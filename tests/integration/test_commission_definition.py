"""A commission must name an outflow definition installed where the ledger runs; the ledger
is told which (``Ledger(..., definitions=...)``); without the list it does not check."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.domain.errors import MalformedSubmission
from ledger.domain.receipt import Receipt
from tests.support import World, commission, make_world


def test_only_installed_definitions_are_accepted(database_url: str) -> None:
    world = make_world(database_url)
    world.ledger.close()
    ledger = Ledger(world.ledger.settings, definitions=("six-month-rule", "contract-6m"))
    checked = World(ledger, world.keys)
    ref = "cd" * 32
    size = ledger.log_size()
    with pytest.raises(MalformedSubmission) as refused:
        checked.submit("gemeente-haarlem", commission(ref, definition="zes-maanden"))
    assert (refused.value.rule, refused.value.field) == ("definition.unknown", "payload.definition")
    assert "contract-6m, six-month-rule" in str(refused.value)
    assert ledger.log_size() == size  # not recorded
    batch = ledger.submit_batch([checked.signed("gemeente-haarlem", commission(ref, definition="zes-maanden")),
                                 checked.signed("gemeente-haarlem", commission(ref, definition="contract-6m"))])
    assert isinstance(batch[0], MalformedSubmission) and batch[0].rule == "definition.unknown"
    assert isinstance(batch[1], Receipt) and batch[1].accepted
    assert ledger.log_size() == size + 1
    ledger.close()


def test_without_the_list_the_ledger_does_not_check(tmp_path: Path) -> None:
    world = make_world(f"sqlite:///{tmp_path}/ledger.sqlite3")
    assert world.submit("gemeente-haarlem", commission("ef" * 32, definition="zes-maanden")).accepted
    trajectories = world.ledger.dossier("ef" * 32).data["trajectories"]
    assert [t["definition"] for t in trajectories.values()] == ["zes-maanden"]
    world.ledger.close()
