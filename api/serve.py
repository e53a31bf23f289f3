"""Running the API: ``serve(host, port)`` and the ``trajectledger serve`` subcommand.

Settings come from the environment (``api.settings``, ``ledger.settings``) when the server
starts, never at import. uvicorn's access log prints one line per request - client address,
request line (method, path, query) and status - and never a body: the BSN of a pseudonym
lookup travels only in the body, so it is never logged.

``--workers N`` runs N server processes on one socket (uvicorn's process manager; a worker
that dies is replaced). The database is migrated and the ledger initialised once, in the
parent, before the workers start; each worker then builds its own app from the same
environment (``app_from_environ``), with its share of the cores for signing
(``TRAJECTLEDGER_API_SIGNING_WORKERS``). Between the processes, the event store's unique
(aggregate, version) and the log's lock keep every dossier and the log consistent, as they
do between separate servers on one database. The witnessing rounds (``TRAJECTLEDGER_WITNESS_POLICY``)
run in the parent only, on a thread: one process pushes each checkpoint to the witnesses, not N.

Ctrl-C (SIGINT) or SIGTERM stops the command in order, with one line ``trajectledger serve
stopped`` and exit 0, and no traceback from any of its processes (``api.stopping``).
"""

from __future__ import annotations

import argparse
import os
from typing import Any, Callable

import uvicorn
from fastapi import FastAPI

from api.app import create_app, witnessing_for
from api.settings import SIGNING_WORKERS_VARIABLE, ApiSettings
from api.stopping import ctrl_c_for_the_manager_only, until_stopped
from ledger.application import Ledger
from ledger.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_SERVER_WORKERS = 64


def app_from_environ() -> FastAPI:
    """The app of one worker process of ``serve --workers N`` (uvicorn calls this factory)."""
    return create_app(ApiSettings.from_environ(), witness_rounds=False,  # the manager runs them, for all workers
                      settle_heap=True)


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, settings: ApiSettings | None = None,
          access_log: bool = True, workers: int = 1) -> None:
    """Build the app from ``settings`` (default: the environment) and run it until stopped;
    with ``workers`` > 1, that many processes, each building its app from the environment."""
    config = settings or ApiSettings.from_environ()
    options: dict[str, Any] = dict(host=host, port=port, access_log=access_log, server_header=False, log_level="info")
    if workers == 1:
        uvicorn.run(create_app(config, settle_heap=True), **options)
        return
    ledger = Ledger(config.ledger)  # migrate and write the genesis entry once, before the workers race to
    cores = os.cpu_count() or 1
    os.environ.setdefault(SIGNING_WORKERS_VARIABLE, str(cores // workers if cores >= 2 * workers else 0))
    witnessing = witnessing_for(ledger)  # one process pushes each round to the witnesses: this one, not each worker
    if witnessing is not None:
        witnessing.start()
    try:
        with ctrl_c_for_the_manager_only():  # the worker processes stop when the manager says so
            uvicorn.run("api.serve:app_from_environ", factory=True, workers=workers, **options)
    finally:
        if witnessing is not None:
            witnessing.close()
        ledger.close()


def server_workers(text: str) -> int:
    """``--workers``: a whole number from 1 to ``MAX_SERVER_WORKERS``."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= number <= MAX_SERVER_WORKERS:
        raise argparse.ArgumentTypeError(f"from 1 to {MAX_SERVER_WORKERS}, not {number}")
    return number


def add_commands(subparsers: Any, open_settings: Callable[[], Settings]) -> None:
    """Add ``serve [--host H] [--port P] [--workers N]`` to the CLI; ``open_settings`` gives the ledger's settings."""
    parser = subparsers.add_parser("serve", help="serve the HTTP API (uvicorn)")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--workers", type=server_workers, default=1,
                        help="server processes on the one port (default 1); on PostgreSQL, or SQLite on one machine")

    def handler(args: argparse.Namespace) -> int:
        settings = ApiSettings.from_environ(ledger=open_settings())
        return until_stopped(lambda: serve(args.host, args.port, settings=settings, workers=args.workers),
                             "trajectledger serve")

    parser.set_defaults(handler=handler)

