"""The offline verifier needs no database and no settings (STYLE.md: dependencies point
inward; the verifier depends on ledger.domain.merkle, the envelope code and the pure rules)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ledger/verify").glob("*.py")) + [
    "ledger/domain/merkle/subtrees.py",
    "ledger/bundle/__init__.py", "ledger/bundle/layout.py",
]
FORBIDDEN = ("sqlalchemy", "eventsourcing", "eventsourcing_sqlalchemy", "fastapi", "psycopg", "alembic",
             "ledger.settings", "ledger.infra.storage", "ledger.application", "ledger.aggregates",
             "ledger.infra.transparency.service", "ledger.bundle.export", "api", "projections")


def imported(path: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_list_is_not_empty() -> None:
    assert len(PURE) >= 12


@pytest.mark.parametrize("path", PURE)
def test_verifier_module_imports_no_infrastructure(path: str) -> None:
    bad = {m for m in imported(path) if m == "ledger" or any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path} imports {sorted(bad)}"


def test_running_the_verifier_loads_no_database_code() -> None:
    code = ("import sys, ledger.verify, cli.log_commands; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'eventsourcing', 'psycopg', 'alembic')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
