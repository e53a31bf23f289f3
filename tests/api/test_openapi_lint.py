"""The served OpenAPI document passes the Dutch API Design Rules linter with zero errors.

The official Spectral ruleset is ``../shared/adr/linter.yaml`` (relative to the repository
root). Spectral runs from ``.tools/`` when installed there (``npm install --prefix .tools
@stoplight/spectral-cli``), else through ``npx --yes @stoplight/spectral-cli``. Without npx
or the ruleset the lint is skipped with a message - except under CI, where it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from tests.support import new_settings

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT.parent / "shared" / "adr" / "linter.yaml"
KEBAB = re.compile(r"^(/([a-z0-9-]+|\{[A-Za-z]+\}|_[a-z]+))+$")
LOCAL_SPECTRAL = ROOT / ".tools" / "node_modules" / ".bin" / "spectral"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def exported(tmp_path: Path) -> dict[str, Any]:
    app = create_app(new_settings(f"sqlite:///{tmp_path}/ledger.sqlite3"))
    try:
        return app.openapi()
    finally:
        app.state.ledger.close()


def spectral_command() -> list[str]:
    if not RULESET.is_file():
        reason = f"the NL API Design Rules ruleset is not at {RULESET}"
    elif LOCAL_SPECTRAL.is_file():
        return [str(LOCAL_SPECTRAL)]
    elif shutil.which("npx"):
        return ["npx", "--yes", "@stoplight/spectral-cli"]
    else:
        reason = "npx (Node.js) is not installed, so Spectral cannot run"
    if in_ci():
        pytest.fail(f"CI requires the OpenAPI lint: {reason}")
    pytest.skip(f"{reason}; install Node.js to lint the OpenAPI document")


def test_the_openapi_document_passes_the_nl_api_design_rules(tmp_path: Path) -> None:
    command = spectral_command()
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(exported(tmp_path)))
    run = subprocess.run([*command, "lint", "-r", str(RULESET), "-f", "json", "--quiet", str(document)],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    try:
        findings = json.loads(run.stdout or "[]")
    except json.JSONDecodeError:
        pytest.fail(f"spectral did not report JSON (exit {run.returncode}): {run.stdout[-2000:]} {run.stderr[-2000:]}")
    errors = [f"{'.'.join(map(str, f['path']))}: {f['code']}: {f['message']}" for f in findings if f["severity"] == 0]
    assert errors == [], "\n".join(errors)
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_document_declares_problems_versions_and_400s_itself(tmp_path: Path) -> None:
    """What the linter checks, asserted directly, so it holds even where Spectral cannot run."""
    document = exported(tmp_path)
    assert document["openapi"].startswith("3.") and document["servers"][0]["url"].endswith("/v1")
    for path, item in document["paths"].items():
        assert KEBAB.match(path), f"{path} is not kebab-case without a trailing slash"
        for method, operation in item.items():
            responses = operation["responses"]
            if method != "get" or operation.get("parameters"):
                assert "400" in responses, f"{method} {path} declares no 400"
            for status, response in responses.items():
                assert "API-Version" in response["headers"], f"{method} {path} {status}"
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], f"{method} {path} {status}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    assert parameter["name"][0].islower() and "_" not in parameter["name"]
    problem = document["components"]["schemas"]["Problem"]
    assert {"status", "title", "detail"} <= set(problem["required"])
