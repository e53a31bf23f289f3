"""The folders are the architecture, and dependencies point inward (STYLE.md 1).

- ``ledger/domain`` is pure: the standard library, ``cryptography``, ``rfc8785`` and itself;
  ``ledger/domain/merkle`` the standard library and itself only.
- ``ledger`` never imports ``api``, ``projections``, ``cli``, ``sdk`` or ``httpx``.
- ``projections`` never imports ``api``, ``cli`` or ``sdk``; ``api`` never imports ``cli``.
- ``sdk`` (the party's client) imports only the pure domain of ``ledger``.
- ``cli`` is the one package that may import ``api`` and ``projections`` together.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = sys.stdlib_module_names | {"__future__"}


def modules(folder: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*.py"))


def imports(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def outside(path: str, allowed: tuple[str, ...]) -> set[str]:
    """What ``path`` imports beyond the standard library and the ``allowed`` packages."""
    return {m for m in imports(path) if m.split(".")[0] not in STDLIB
            and not any(m == a or m.startswith(a + ".") for a in allowed)}


def importing(path: str, forbidden: tuple[str, ...]) -> set[str]:
    return {m for m in imports(path) if any(m == f or m.startswith(f + ".") for f in forbidden)}


DOMAIN, MERKLE = modules("ledger/domain"), modules("ledger/domain/merkle")
LEDGER, PROJECTIONS, API, SDK = modules("ledger"), modules("projections"), modules("api"), modules("sdk")


def test_the_layers_are_found() -> None:
    assert len(DOMAIN) > 15 and len(MERKLE) >= 6 and len(LEDGER) > 50 and len(PROJECTIONS) > 15 and len(API) > 15
    assert len(SDK) >= 2 and modules("cli")


@pytest.mark.parametrize("path", DOMAIN)
def test_the_domain_imports_no_infrastructure(path: str) -> None:
    bad = outside(path, ("cryptography", "rfc8785", "ledger.domain"))
    assert not bad, f"{path} imports {sorted(bad)}"


@pytest.mark.parametrize("path", MERKLE)
def test_merkle_depends_on_nothing_but_the_standard_library(path: str) -> None:
    bad = outside(path, ("ledger.domain.merkle",))
    assert not bad, f"{path} imports {sorted(bad)}"


@pytest.mark.parametrize("path", LEDGER)
def test_the_ledger_imports_no_edge(path: str) -> None:
    bad = importing(path, ("api", "projections", "cli", "sdk", "httpx", "fastapi", "uvicorn"))
    assert not bad, f"{path} imports {sorted(bad)}"


@pytest.mark.parametrize("path", PROJECTIONS)
def test_projections_import_no_edge(path: str) -> None:
    bad = importing(path, ("api", "cli", "sdk", "httpx", "fastapi"))
    assert not bad, f"{path} imports {sorted(bad)}"


@pytest.mark.parametrize("path", API)
def test_the_api_imports_no_command_line(path: str) -> None:
    bad = importing(path, ("cli",))
    assert not bad, f"{path} imports {sorted(bad)}"


@pytest.mark.parametrize("path", SDK)
def test_the_sdk_needs_only_the_pure_domain(path: str) -> None:
    bad = outside(path, ("httpx", "cryptography", "ledger.domain", "sdk"))
    assert not bad, f"{path} imports {sorted(bad)}"


def test_the_command_line_is_the_only_package_importing_api_and_projections() -> None:
    """``api`` serves projections (its report routes); outside ``api`` only ``cli`` holds both."""
    both = [p for p in LEDGER + PROJECTIONS + SDK if importing(p, ("api",)) and importing(p, ("projections",))]
    assert both == []
    cli = modules("cli")
    assert any(importing(p, ("api",)) for p in cli) and any(importing(p, ("projections",)) for p in cli)


@pytest.mark.parametrize("path", DOMAIN + ["ledger/application.py", "ledger/aggregates.py"])
def test_no_module_reads_the_environment(path: str) -> None:
    source = (ROOT / path).read_text(encoding="utf-8")
    assert "os.environ" not in source and "getenv" not in source
