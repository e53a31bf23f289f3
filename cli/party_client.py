"""Commands for anyone with a party key and the server's URL, no Python needed: ``get PATH``
(any signed read, JSON out), ``export-download FILE``, and ``pseudonym --url ...`` (BSNs on
standard input, turned into client_refs by the server).

Each takes ``--url``, ``--party`` and ``--key``, or the environment variables
``TRAJECTLEDGER_URL``, ``TRAJECTLEDGER_PARTY`` and ``TRAJECTLEDGER_PARTY_KEY``. Every request is
signed with the party's key (RFC 9421) by the SDK, so the server answers within that party's scope.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import httpx

from cli.submit_file import read_private_key
from sdk.client import ClientError, LedgerClient, ProblemError

EXIT_OK, EXIT_INVALID = 0, 2
ENVIRONMENT = {"url": "TRAJECTLEDGER_URL", "party": "TRAJECTLEDGER_PARTY", "key": "TRAJECTLEDGER_PARTY_KEY"}


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help=f"the server, e.g. http://127.0.0.1:8000 (or .../v1); default ${ENVIRONMENT['url']}")
    parser.add_argument("--party", help=f"your party id; default ${ENVIRONMENT['party']}")
    parser.add_argument("--key", help=f"your Ed25519 private key (PEM); default ${ENVIRONMENT['key']}")


def add_commands(subparsers: Any) -> None:
    p = subparsers.add_parser("get", help="a signed read as your party: print the JSON the server answers")
    p.add_argument("path", help="an API path, e.g. /parties or /dossiers/<client_ref>/claims (the /v1 prefix is optional)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a query parameter (repeatable)")
    add_connection_options(p)
    p.set_defaults(handler=cmd_get)

    p = subparsers.add_parser("export-download", help="download the signed export (.tar.gz) your party may read")
    p.add_argument("file", help="where to write it; check it with 'trajectledger verify FILE'")
    add_connection_options(p)
    p.set_defaults(handler=cmd_export_download)


def connection(args: argparse.Namespace) -> LedgerClient:
    """A client for the options given, or their environment variables; ``ValueError`` names a missing one."""
    values = {}
    for name, variable in ENVIRONMENT.items():
        value = getattr(args, name, None) or os.environ.get(variable)
        if not value:
            raise ValueError(f"--{name} is missing (or set {variable})")
        values[name] = value
    return LedgerClient.connect(values["url"], values["party"], read_private_key(Path(values["key"])))


def _answered(run: Any) -> int:
    """Run a request; a problem from the server or a transport failure is one line on stderr, exit 2."""
    try:
        run()
    except ProblemError as exc:
        problem = exc.problem
        print(f"error: {problem.get('status')} {problem.get('rule') or problem.get('title')}"
              f"{' [' + problem['field'] + ']' if problem.get('field') else ''}: {problem.get('detail')}", file=sys.stderr)
        return EXIT_INVALID
    except (ClientError, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def cmd_get(args: argparse.Namespace) -> int:
    params = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--param {item!r}: write NAME=VALUE")
        params[name] = value
    path = args.path if args.path.startswith("/") else "/" + args.path
    path = path.removeprefix("/v1") or "/"
    client = connection(args)
    try:
        return _answered(lambda: print(json.dumps(client.get(path, **params), indent=2, ensure_ascii=False)))
    finally:
        client.close()


def cmd_export_download(args: argparse.Namespace) -> int:
    client = connection(args)
    try:
        code = _answered(lambda: client.download_export(Path(args.file)))
    finally:
        client.close()
    if code == EXIT_OK:
        print(f"wrote {args.file} ({Path(args.file).stat().st_size} bytes); check it with: trajectledger verify {args.file}")
    return code


def pseudonyms_over_api(args: argparse.Namespace, lines: TextIO) -> int:
    """One client_ref per BSN line, asked of the server; a bad line is named by its number
    (on stderr, its BSN never printed) and the rest are still answered: exit 2 if any was bad."""
    client = connection(args)
    worst = EXIT_OK
    try:
        for number, line in enumerate(lines, start=1):
            bsn = line.strip()
            if not bsn:
                continue
            try:
                print(client.pseudonym(bsn), flush=True)
            except ProblemError as exc:
                print(f"line {number}: {exc.problem.get('rule')}: {exc.problem.get('detail')}", file=sys.stderr)
                worst = EXIT_INVALID
    finally:
        client.close()
    return worst
