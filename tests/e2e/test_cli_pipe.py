"""Output into a pipe whose reader left early (``trajectledger status | head -1``) ends the
command quietly: exit 141 (128 + SIGPIPE, as a shell reports it), nothing on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

from ledger.settings import create_keys

ROOT = Path(__file__).resolve().parents[2]
BSN = "111222333"


@pytest.fixture(params=["buffered", "unbuffered"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The command's environment: a fresh ledger; standard output block-buffered (as in a pipe)
    or unbuffered (``PYTHONUNBUFFERED``), where a write fails at once."""
    create_keys(tmp_path / "keys")
    environ = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    if request.param == "unbuffered":
        environ["PYTHONUNBUFFERED"] = "1"
    return {**environ, "TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys"),
            "TRAJECTLEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.sqlite3"}


def trajectledger(*argv: str, env: dict[str, str], stdin: int | IO[bytes] = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "cli.main", *argv], cwd=ROOT, env=env, stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_reader_that_stops_after_one_line_ends_the_output_quietly(env: dict[str, str], tmp_path: Path) -> None:
    bsns = tmp_path / "bsns.txt"
    bsns.write_text(f"{BSN}\n" * 5000)  # 5000 lines of output: far more than a pipe holds
    with bsns.open("rb") as stdin, trajectledger("pseudonym", env=env, stdin=stdin) as command:
        assert command.stdout is not None and command.stderr is not None
        first = command.stdout.readline()  # as `head -1` does ...
        command.stdout.close()  # ... and goes away
        stderr = command.stderr.read()
        code = command.wait(timeout=60)
    assert len(first.strip()) == 64  # the command was writing client_refs
    assert (code, stderr.decode()) == (141, "")


def test_a_reader_gone_before_the_last_flush(env: dict[str, str]) -> None:
    with trajectledger("status", env=env) as command:
        assert command.stdout is not None and command.stderr is not None
        command.stdout.close()  # gone before the command (still importing) writes its few lines
        stderr = command.stderr.read()
        code = command.wait(timeout=60)
    assert (code, stderr.decode()) == (141, "")


def test_a_reader_that_reads_everything_sees_exit_0(env: dict[str, str]) -> None:
    finished = subprocess.run([sys.executable, "-m", "cli.main", "status"], cwd=ROOT, env=env, capture_output=True,
                              timeout=60, check=False)
    assert (finished.returncode, finished.stderr.decode()) == (0, "")
    assert finished.stdout.decode().startswith("log entries: 1\n")
