"""The ``trajectledger`` command's entry point (``[project.scripts]``).

Loading the command line takes about a second (the report and chart libraries, the API's
modules while the arguments are parsed). Ctrl-C in that second ends the command as it does later,
while a command works (``cli.main``): "stopped" on standard error and exit 130, not a
``KeyboardInterrupt`` traceback from the middle of an import.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130  # as ``cli.main``'s


def run() -> None:
    try:
        from cli.main import main

        code = main()
    except KeyboardInterrupt:  # (a command interrupted while it works says so itself, in ``main``)
        print("stopped", file=sys.stderr)
        code = EXIT_INTERRUPTED
    raise SystemExit(code)
