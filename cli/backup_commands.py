"""``trajectledger backup FILE`` and ``restore FILE``: a consistent copy of the ledger's database
while it serves, and that copy put back into a new, empty database.

``cli.main`` wires them in with ``add_commands(sub)``. Both read only
``TRAJECTLEDGER_DATABASE_URL``: no keys. Exit codes: 0 ok; 2 bad input (the backup file exists,
cannot be read, is no backup, or is of the other engine; ``pg_dump``/``pg_restore`` failed);
78 configuration (a target database that is not empty, ``pg_dump`` not installed, a database
that cannot be opened).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ledger.infra.storage.backup import BackupError, Copied, backup, restore
from ledger.settings import database_url

EXIT_OK = 0


def add_commands(subparsers: Any) -> None:
    """Add ``backup`` and ``restore`` to an argparse subparsers object."""
    p = subparsers.add_parser("backup", help="copy the ledger's database consistently, also while it serves")
    p.add_argument("file", help="a new file: an SQLite database, or a pg_dump custom-format archive")
    p.set_defaults(handler=cmd_backup)

    p = subparsers.add_parser("restore", help="restore a backup into the new, empty database TRAJECTLEDGER_DATABASE_URL names")
    p.add_argument("file", help="a file 'trajectledger backup' wrote")
    p.set_defaults(handler=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    url = database_url(os.environ)
    try:
        copied = backup(url, Path(args.file))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"backed up {_entries(copied)} to {copied.file}: {copied.size} bytes ({copied.method})")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    url = database_url(os.environ)
    try:
        copied = restore(Path(args.file), url)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"restored {_entries(copied)} from {copied.file} ({copied.size} bytes, {copied.method}); "
          f"the next entry gets log index {copied.entries}")
    return EXIT_OK


def _entries(copied: Copied) -> str:
    if copied.entries == 0:
        return "0 log entries"
    return f"{copied.entries} log entries (indexes 0-{copied.entries - 1})"
