"""A signature worker: reads requests on stdin, answers on stdout (``ledger.signature_pool``)."""

from __future__ import annotations

import sys

from ledger.signature_pool import answer


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (reply := answer(stdin)) is not None:
        stdout.write(reply)
        stdout.flush()


if __name__ == "__main__":
    main()
