"""``trajectledger tiles DIR``: the log as static C2SP tlog-tiles files (``DIR/checkpoint``,
``DIR/tile/...``), the bytes ``GET <origin path>/...`` serves, for a web server or an archive:
with a witness policy, up to the newest checkpoint its quorum cosigned (the published one).

Exit codes: 0 written (entry bundles that cannot be framed are named on standard error);
2 no checkpoint yet or an unwritable directory.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.infra.transparency.published import NotWitnessed, PublishedCheckpoints
from ledger.infra.transparency.tile_files import write_tiles
from ledger.infra.transparency.tiles import LogTiles, NoCheckpoint

EXIT_OK, EXIT_INVALID = 0, 2


def add_commands(subparsers: Any, open_ledger: Callable[[], Any]) -> None:
    """Add ``tiles`` to an argparse subparsers object."""
    p = subparsers.add_parser("tiles", help="write the log as static C2SP tlog-tiles files (checkpoint, tile/...)")
    p.add_argument("dir", help="the directory to bring up to the newest checkpoint (created if missing)")
    p.set_defaults(handler=lambda args: cmd_tiles(args, open_ledger))


def cmd_tiles(args: argparse.Namespace, open_ledger: Callable[[], Any]) -> int:
    ledger = open_ledger()
    try:
        published = PublishedCheckpoints(ledger.transparency, ledger.settings.witness_policy).newest()
        summary = write_tiles(LogTiles(ledger.transparency, ledger.entries), Path(args.dir), published)
    except NoCheckpoint as exc:
        print(f"error: {exc} (sign one with `trajectledger checkpoint`)", file=sys.stderr)
        return EXIT_INVALID
    except NotWitnessed as exc:  # TRAJECTLEDGER_WITNESS_POLICY: publish only what its quorum cosigned
        print(f"error: {exc.detail} (run `trajectledger witness push`)", file=sys.stderr)
        return EXIT_INVALID
    finally:
        ledger.close()
    print(f"tiles of {summary.tree_size} entries in {args.dir}: {summary.written} files written, "
          f"{summary.kept} already there")
    for path in summary.too_large:
        print(f"warning: {path} not written: it holds an entry over 65535 bytes, "
              f"which a tlog-tiles bundle cannot frame", file=sys.stderr)
    return EXIT_OK
