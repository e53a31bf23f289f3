"""``reporting`` sits beside ``cli``: it reads the ledger's bundles and the projections, never the API or the CLI."""

from __future__ import annotations

import pytest

from tests.unit.test_architecture import importing, modules

REPORTING = modules("reporting")


def test_the_package_is_found() -> None:
    assert {"reporting/charts.py", "reporting/council.py", "reporting/xlsx.py", "reporting/html.py"} <= set(REPORTING)


@pytest.mark.parametrize("path", REPORTING)
def test_reporting_imports_no_edge(path: str) -> None:
    assert not importing(path, ("api", "cli", "sdk", "httpx", "fastapi")), path


@pytest.mark.parametrize("path", modules("ledger") + modules("projections"))
def test_nothing_inward_imports_reporting(path: str) -> None:
    assert not importing(path, ("reporting",)), path
