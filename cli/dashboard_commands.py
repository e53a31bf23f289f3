"""``trajectledger dashboard``: the dashboard's pages on 127.0.0.1 (``dashboard.app``).

* live: ``--url URL --party ID --key PEM`` (or ``TRAJECTLEDGER_URL``, ``_PARTY``, ``_PARTY_KEY``
  as the other party commands): every read a signed API call as that party, every action an
  envelope signed with its key;
* ``--bundle PATH`` (with ``--trusted-operator-key``, ``--against`` as ``verify``): an export,
  verified first with the whole checklist - a bundle that does not verify is not served
  (``FAILED: ...``, exit 3, or 2 if malformed) - then read-only, with no database or keys.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from cli.bundle_input import add_options as add_bundle_options
from cli.bundle_input import on_verified, wants_bundle
from cli.party_client import add_connection_options, connection

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8050
EXIT_INVALID = 2
STARTUP_WAIT = 30.0  # seconds


def add_commands(subparsers: Any) -> None:
    p = subparsers.add_parser("dashboard", help="web pages for claim checkers and auditors: live as a party, or on an export")
    add_connection_options(p)
    add_bundle_options(p)
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}; see README before changing)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--peildatum", type=date.fromisoformat, metavar="DATE",
                   help="with --bundle: measure at this date (default: today)")
    p.set_defaults(handler=cmd_dashboard)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboard.app import create_dashboard  # the [api] extra: FastAPI, uvicorn

    if wants_bundle(args):  # the bundle-only options without --bundle: a usage error
        if args.url or args.party:
            raise ValueError("--bundle reads an export: leave out --url and --party")

        def on_bundle(bundle: Any) -> int:
            source = _bundle_source(args, bundle)
            return _serve(create_dashboard(source), args, f"export {args.bundle}, read-only")
        return on_verified(args, on_bundle)
    if args.peildatum is not None:
        raise ValueError("--peildatum applies to --bundle; live, the server measures at today")
    import httpx

    from dashboard.live import LiveSource
    from sdk.client import ClientError

    client = connection(args)
    try:
        try:
            source = _connected(lambda: LiveSource(client, str(client.http.base_url)), str(client.http.base_url))
        except (ClientError, httpx.HTTPError) as exc:  # no server, or it refuses the party's signature
            print(f"error: the ledger at {client.http.base_url} as {client.party_id}: {exc}", file=sys.stderr)
            return EXIT_INVALID
        return _serve(create_dashboard(source), args, f"live as {client.party_id} ({source.who.role})")
    finally:
        client.close()


def _connected(connect: Callable[[], Any], url: str) -> Any:
    """``connect()``, waiting up to ``seconds`` for a server that is still starting (``make run``
    starts the API and the dashboard together); then the connection error stands."""
    import httpx

    deadline, said = time.monotonic() + STARTUP_WAIT, False
    while True:
        try:
            return connect()
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            if not said:
                print(f"waiting for the ledger at {url} (at most {STARTUP_WAIT:.0f} s)", file=sys.stderr, flush=True)
                said = True
            time.sleep(1.0)


def _bundle_source(args: argparse.Namespace, bundle: Any) -> Any:
    from dashboard.offline import BundleSource
    from ledger.domain.entry import now_utc, recording_date
    from projections.definitions.registry import installed

    directory = Path(bundle.entries.path).parent
    return BundleSource(bundle, directory, str(args.bundle), installed(), args.peildatum or recording_date(now_utc()))


def _serve(app: Any, args: argparse.Namespace, what: str, run: Callable[..., None] | None = None) -> int:
    import uvicorn

    from api.stopping import until_stopped

    print(f"dashboard ({what}) at http://{args.host}:{args.port}/ - Ctrl-C stops it", file=sys.stderr, flush=True)
    return until_stopped(lambda: (run or uvicorn.run)(app, host=args.host, port=args.port, log_level="warning",
                                                      server_header=False), "trajectledger dashboard")
