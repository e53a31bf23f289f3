"""Running the API: ``serve(host, port)`` and the ``trajectledger serve`` subcommand.

Settings come from the environment (``api.settings``, ``ledger.settings``) when the server
starts, never at import. uvicorn's access log prints one line per request - client address,
request line (method, path, query) and status - and never a body: the BSN of a pseudonym
lookup travels only in the body, so it is never logged.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

import uvicorn

from api.app import create_app
from api.settings import ApiSettings
from ledger.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, settings: ApiSettings | None = None,
          access_log: bool = True) -> None:
    """Build the app from ``settings`` (default: the environment) and run it until stopped."""
    app = create_app(settings or ApiSettings.from_environ())
    uvicorn.run(app, host=host, port=port, access_log=access_log, server_header=False, log_level="info")


def add_commands(subparsers: Any, open_settings: Callable[[], Settings]) -> None:
    """Add ``serve [--host H] [--port P]`` to the CLI; ``open_settings`` gives the ledger's settings."""
    parser = subparsers.add_parser("serve", help="serve the HTTP API (uvicorn)")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")

    def handler(args: argparse.Namespace) -> int:
        serve(args.host, args.port, settings=ApiSettings.from_environ(ledger=open_settings()))
        return 0

    parser.set_defaults(handler=handler)
