"""A signature worker: reads requests on stdin, answers on stdout (``ledger.signature_pool``)."""

from __future__ import annotations

import sys

from ledger.signature_pool import read_request, verify_all


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (checks := read_request(stdin)) is not None:
        stdout.write(bytes(verify_all(checks)))
        stdout.flush()


if __name__ == "__main__":
    main()
