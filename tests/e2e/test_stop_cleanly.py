"""Ctrl-C and SIGTERM stop ``serve --workers 2``, ``serve`` and ``dashboard --bundle`` in order: one
line "... stopped", exit 0, no traceback from the command or any process under it (the servers'
workers, their signing workers), and no process left behind.

Ctrl-C in a terminal sends SIGINT to every process of the foreground group: the command runs in a
session of its own here, and the signal goes to the whole group, as a terminal sends it; SIGTERM,
as a service manager sends it, goes to the command alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ledger.application import Ledger
from ledger.settings import Settings, create_keys, load_keys
from tests.e2e.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def _descendants(pid: int) -> set[int]:
    """Every process under ``pid`` (Linux ``/proc``)."""
    found: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found |= {int(child)} | _descendants(int(child))
    except FileNotFoundError:  # ended meanwhile
        pass
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _blocks_sigint(pid: int) -> bool:
    """Whether the process's (main thread's) signal mask blocks SIGINT (Linux ``/proc``)."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return bool(int(next(line for line in status if line.startswith("SigBlk:")).split()[1], 16) & (1 << (signal.SIGINT - 1)))


def _stop(argv: list[str], env: dict[str, str], url: str, sig: signal.Signals, to_group: bool,
          log: Path, started: int = 0) -> tuple[int, str, set[int]]:
    """Start the command, wait until ``url`` answers (and ``started`` servers said they started),
    send ``sig``; its exit code, standard error and the processes that were under it."""
    with log.open("wb") as err:
        command = subprocess.Popen([sys.executable, "-m", "cli.main", *argv], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(url, timeout=2)
                if log.read_text().count("Application startup complete") >= started:
                    break
            except httpx.TransportError:
                pass
            if command.poll() is not None or time.monotonic() > deadline:
                command.kill()
                command.wait()
                pytest.fail(f"{argv[0]} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        under = _descendants(command.pid)
        if to_group:
            os.killpg(command.pid, sig)
        else:
            command.send_signal(sig)
        command.wait(timeout=60)
    finally:
        if command.poll() is None:
            os.killpg(command.pid, signal.SIGKILL)
            command.wait()
    return command.returncode, log.read_text(), under


def _environment(tmp_path: Path, database_url: str) -> dict[str, str]:
    create_keys(tmp_path / "keys")
    env = {**os.environ, "TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys"), "TRAJECTLEDGER_DATABASE_URL": database_url,
           "PYTHONUNBUFFERED": "1", "TRAJECTLEDGER_API_SIGNING_WORKERS": "1"}  # a signing worker under each server
    return env


def _assert_stopped(result: tuple[int, str, set[int]], name: str) -> None:
    code, err, under = result
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    assert code == 0 and err.rstrip().endswith(f"trajectledger {name} stopped"), (code, err[-2000:])
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in under) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in under if _alive(pid)]


@pytest.mark.parametrize(("sig", "to_group"), [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "sigterm"])
def test_serve_with_two_workers_stops_cleanly(tmp_path: Path, sig: signal.Signals, to_group: bool) -> None:
    env = _environment(tmp_path, f"sqlite:///{tmp_path}/ledger.sqlite3")
    port = free_port()
    # both servers up first: a server still importing its modules when Ctrl-C comes may still print a traceback
    result = _stop(["serve", "--port", str(port), "--workers", "2"], env, f"http://127.0.0.1:{port}/v1/health",
                   sig, to_group, tmp_path / "serve.log", started=2)
    assert len(result[2]) >= 4  # two servers, each with its signing worker: what the signal reached
    _assert_stopped(result, "serve")


def test_the_server_processes_of_serve_workers_start_with_sigint_blocked(tmp_path: Path) -> None:
    """So a Ctrl-C while Python is still starting in them (before uvicorn installs its handlers)
    stops them through the manager rather than as a ``KeyboardInterrupt`` traceback each
    (``api.stopping.ctrl_c_for_the_manager_only``); the manager still takes it."""
    env = _environment(tmp_path, f"sqlite:///{tmp_path}/ledger.sqlite3")
    port = free_port()
    with (tmp_path / "serve.log").open("wb") as err:
        command = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--workers", "2"],
                                   cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while (tmp_path / "serve.log").read_text().count("Application startup complete") < 2:
            assert command.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        servers = [pid for pid in _descendants(command.pid)
                   if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")]
        assert len(servers) == 2
        assert all(_blocks_sigint(pid) for pid in servers)
        assert _blocks_sigint(command.pid)  # the manager's main thread; a helper thread takes the signal
        os.killpg(command.pid, signal.SIGINT)
        command.wait(timeout=60)
    finally:
        if command.poll() is None:
            os.killpg(command.pid, signal.SIGKILL)
            command.wait()
    assert command.returncode == 0


@pytest.mark.parametrize(("sig", "to_group"), [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "sigterm"])
def test_serve_with_one_worker_stops_cleanly(tmp_path: Path, sig: signal.Signals, to_group: bool) -> None:
    """uvicorn raises the signal again once it has shut down: SIGTERM used to kill the command then (-15)."""
    env = _environment(tmp_path, f"sqlite:///{tmp_path}/ledger.sqlite3")
    port = free_port()
    result = _stop(["serve", "--port", str(port)], env, f"http://127.0.0.1:{port}/v1/health", sig, to_group,
                   tmp_path / "serve.log")
    _assert_stopped(result, "serve")


def test_the_dashboard_on_an_export_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/ledger.sqlite3"
    env = _environment(tmp_path, database_url)
    operator_key, pseudonym_key = load_keys(tmp_path / "keys")
    Ledger(Settings(database_url, operator_key, pseudonym_key)).close()  # the genesis entry
    for argv in (["export", str(tmp_path / "bundle")], ["checkpoint", "--verifier-key"]):
        done = subprocess.run([sys.executable, "-m", "cli.main", *argv], cwd=ROOT, env=env, capture_output=True, check=True)
    (tmp_path / "vkey").write_bytes(done.stdout)
    port = free_port()
    result = _stop(["dashboard", "--bundle", str(tmp_path / "bundle"), "--trusted-operator-key", str(tmp_path / "vkey"),
                    "--port", str(port)], env, f"http://127.0.0.1:{port}/", signal.SIGINT, True, tmp_path / "dashboard.log")
    _assert_stopped(result, "dashboard")
