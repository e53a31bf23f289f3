"""Ctrl-C while the ``trajectledger`` command is still loading (about a second: the report and
chart libraries, the API's modules) ends it as Ctrl-C does later: "stopped" on standard error,
exit 130, no ``KeyboardInterrupt`` traceback (``cli.entry``, the console script's entry point)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRY = "from cli.entry import run; run()"


def test_an_interrupt_inside_an_import_says_stopped_and_exits_130() -> None:
    interrupt_on_import = ("import builtins\n"
                           "real = builtins.__import__\n"
                           "def importing(name, *args, **kwargs):\n"
                           "    if name == 'cli.main':\n"
                           "        raise KeyboardInterrupt\n"
                           "    return real(name, *args, **kwargs)\n"
                           "builtins.__import__ = importing\n" + ENTRY)
    done = subprocess.run([sys.executable, "-c", interrupt_on_import, "status"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stderr, done.stdout) == (130, "stopped\n", "")


def test_ctrl_c_in_the_first_second_of_a_command_says_stopped_and_exits_130(tmp_path: Path) -> None:
    env = {**os.environ, "TRAJECTLEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.sqlite3",
           "TRAJECTLEDGER_KEY_DIR": str(tmp_path / "keys")}
    command = subprocess.Popen([sys.executable, "-c", ENTRY, "status"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(0.3)  # loading takes about a second
    os.killpg(command.pid, signal.SIGINT)  # as a terminal sends it: to the whole group
    out, err = command.communicate(timeout=60)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert (command.returncode, err, out) == (130, "stopped\n", "")
