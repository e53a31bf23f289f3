"""The start-up heap, set aside from Python's cyclic garbage collector.

A long-running process (the API, a demo build) imports and builds far more objects at start
than any request makes: SQLAlchemy's, FastAPI's, the definitions, the app. Each full
collection would walk all of them again. ``settle`` collects once and moves what is left to
the permanent generation (``gc.freeze``): later collections walk only what the requests make
and keep. Objects frozen are never freed by the collector; nothing made at start-up is
meant to be.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Call once, when start-up is done and before the first request."""
    gc.collect()
    gc.freeze()
