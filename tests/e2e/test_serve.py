"""``api.serve``: the server as deployed (settings from the environment, uvicorn's own logging),
in a subprocess on loopback; and the ``serve`` subcommand's wiring."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import api.serve
from api.settings import ApiSettings
from ledger.settings import Settings, create_keys, load_keys
from sdk.client import LedgerClient
from tests.e2e.server import free_port

ROOT = Path(__file__).resolve().parents[2]
BSN = "100000009"


def test_serve_runs_from_the_environment_and_logs_no_bodies(tmp_path: Path) -> None:
    create_keys(tmp_path / "keys")
    operator_key, _ = load_keys(tmp_path / "keys")
    port = free_port()
    env = {**os.environ, "TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys"),
           "TRAJECTLEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.sqlite3", "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-c", f"from api.serve import serve; serve('127.0.0.1', {port})"],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    health = httpx.get(url + "/v1/health", timeout=2)
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"the server did not start: {log.read_text()[-2000:]}")
                    time.sleep(0.1)
            assert health.status_code == 200 and health.headers["API-Version"] == "1.0.0"
            operator = LedgerClient.connect(url, "operator", operator_key)
            assert len(operator.pseudonym(BSN)) == 64
            operator.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    output = log.read_text()
    assert "POST /v1/pseudonyms" in output and "GET /v1/health" in output
    assert BSN not in output


def test_the_serve_subcommand_passes_host_port_and_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[str, int, ApiSettings, int]] = []
    monkeypatch.setattr(api.serve, "serve", lambda host, port, settings, workers: calls.append((host, port, settings, workers)))
    create_keys(tmp_path)
    ledger_settings = Settings.from_environ({"TRAJECTLEDGER_KEY_DIR": str(tmp_path)})
    parser = argparse.ArgumentParser()
    api.serve.add_commands(parser.add_subparsers(dest="command"), lambda: ledger_settings)
    args = parser.parse_args(["serve", "--port", "8123"])
    assert args.handler(args) == 0
    args = parser.parse_args(["serve", "--port", "8124", "--workers", "3"])
    assert args.handler(args) == 0
    assert [(host, port, workers) for host, port, _, workers in calls] == [("127.0.0.1", 8123, 1), ("127.0.0.1", 8124, 3)]
    assert calls[0][2].ledger is ledger_settings


@pytest.mark.parametrize("workers", ["0", "65", "three"])
def test_serve_refuses_a_bad_number_of_workers(workers: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    api.serve.add_commands(parser.add_subparsers(dest="command"), lambda: Settings.from_environ({}))
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["serve", "--workers", workers])
    assert exit_.value.code == 2 and "--workers" in capsys.readouterr().err
