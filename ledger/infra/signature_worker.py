"""A signature worker: reads requests on stdin, answers on stdout (``ledger.infra.signature_pool``).

Workers run at a lower priority than the ledger that started them: while a batch is
parsed, decided and written, the ledger's one thread is the bottleneck, so on a machine
with as many busy workers as cores it keeps a core, and the workers share the rest.
"""

from __future__ import annotations

import os
import sys

from ledger.infra.signature_pool import answer

NICENESS = 10


def main() -> None:
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):  # not on this platform: same priority, still correct
        pass
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (reply := answer(stdin)) is not None:
        stdout.write(reply)
        stdout.flush()


if __name__ == "__main__":
    main()
