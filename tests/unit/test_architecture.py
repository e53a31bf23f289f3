"""Dependencies point inward (STYLE.md 1): the domain imports no infrastructure."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = [
    "ledger/identity.py", "ledger/envelope.py", "ledger/payloads.py", "ledger/errors.py", "ledger/entry.py",
    "ledger/receipt.py", "ledger/checkpoint.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ledger/dossier").glob("*.py")),
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ledger/registry").glob("*.py")),
]
MERKLE = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ledger/merkle").glob("*.py"))
INFRASTRUCTURE = ("sqlalchemy", "eventsourcing", "eventsourcing_sqlalchemy", "fastapi", "httpx", "psycopg", "alembic",
                  "uvicorn", "ledger.settings", "ledger.storage", "ledger.application", "ledger.aggregates", "api",
                  "projections")


def imports(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_lists_are_not_empty() -> None:
    assert len(DOMAIN) > 8 and len(MERKLE) >= 4


@pytest.mark.parametrize("path", DOMAIN)
def test_domain_module_imports_no_infrastructure(path: str) -> None:
    bad = {m for m in imports(path) if m.split(".")[0] in INFRASTRUCTURE or m.startswith(INFRASTRUCTURE)}
    assert not bad, f"{path} imports {sorted(bad)}"


@pytest.mark.parametrize("path", MERKLE)
def test_merkle_depends_on_nothing_but_the_standard_library(path: str) -> None:
    bad = {m for m in imports(path) if not (m.startswith("ledger.merkle") or m.split(".")[0] in
                                           ("hashlib", "typing", "collections", "dataclasses", "__future__", "base64"))}
    assert not bad, f"{path} imports {sorted(bad)}"


@pytest.mark.parametrize("path", DOMAIN + MERKLE + ["ledger/application.py", "ledger/aggregates.py"])
def test_no_module_reads_the_environment(path: str) -> None:
    source = (ROOT / path).read_text(encoding="utf-8")
    assert "os.environ" not in source and "getenv" not in source
