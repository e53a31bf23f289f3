"""A real server for end-to-end tests: uvicorn on 127.0.0.1 with a free port, in a thread
(``running``), or a server command in a process of its own (``serving_process``)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

STARTUP_SECONDS = 20
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(app: Any, lifespan: bool = False) -> Iterator[str]:
    """Serve ``app`` on loopback until the block ends; yields its base URL. ``lifespan``: run the
    app's startup and shutdown (the ledger starts its witnessing thread there)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=True,
                                           lifespan="on" if lifespan else "off", server_header=False))
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_SECONDS)


@contextmanager
def serving_process(argv: Sequence[str], env: Mapping[str, str], log: Path, port: int,
                   startup: float = 90) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python argv`` (a server on ``port``) from the project's root, its output in ``log``,
    until ``/v1/health`` answers 200; stop it when the block ends."""
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=dict(env), stdout=out,
                                  stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + startup
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{' '.join(argv)} did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
            yield server
        finally:
            server.terminate()
            server.wait(timeout=60)
