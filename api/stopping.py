"""Stopping a server with Ctrl-C (SIGINT) or SIGTERM: one line, exit 0, no traceback.

uvicorn catches both signals while it serves, shuts down in order (requests finish, the app's
lifespan ends, the signing workers are closed), then raises the signal again for whoever
handled it before: Python's own handlers would then end the process with a ``KeyboardInterrupt``
or be killed by SIGTERM. ``until_stopped(run)`` installs handlers that raise ``Stopped``
instead, for the whole run - a signal while the app is still being built stops it as well - and
reports how the server ended. The exit code is 0: the signal was asked for and answered by an
orderly shutdown, as a service manager expects of a server it stops (a shell's 130 means a
process the signal ended before it could clean up).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(BaseException):
    """A stopping signal arrived (a BaseException, like KeyboardInterrupt: no ``except Exception`` takes it)."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number


def _raise_stopped(signal_number: int, _frame: FrameType | None) -> None:
    raise Stopped(signal_number)


def until_stopped(run: Callable[[], None], what: str) -> int:
    """``run()`` until it returns or a stopping signal arrives; then print ``<what> stopped`` on
    standard error and return 0. The previous handlers are restored afterwards."""
    previous = {number: signal.signal(number, _raise_stopped) for number in STOPPING_SIGNALS}
    try:
        run()
    except (Stopped, KeyboardInterrupt):  # (with N workers, uvicorn's manager takes the signal and returns)
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    print(f"{what} stopped", file=sys.stderr, flush=True)
    return 0


@contextlib.contextmanager
def ctrl_c_for_the_manager_only() -> Iterator[None]:
    """While uvicorn's manager (``serve --workers N``) runs: the server processes it starts never
    take SIGINT, so a terminal's Ctrl-C, which reaches every process of the group, stops them only
    through the manager (SIGTERM to each, an orderly shutdown). Without this a worker process hit
    while Python was still starting (before uvicorn installs its handlers) printed a
    ``KeyboardInterrupt`` traceback.

    How: the calling thread, which starts the workers, blocks SIGINT, and the workers inherit that
    signal mask; a helper thread that does nothing keeps it unblocked, so the kernel delivers a
    SIGINT for this process to it, and Python runs the handler (uvicorn's) in the main thread as
    always. POSIX only; elsewhere nothing changes."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # now: when it starts, it unblocks SIGINT in the calling thread
    done = threading.Event()
    helper = threading.Thread(target=done.wait, name="sigint-receiver", daemon=True)
    helper.start()  # before the mask: a thread starts with its creator's
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        done.set()
        helper.join()
