"""Calendar arithmetic on ISO dates (``YYYY-MM-DD`` strings compare in date order).

Definitions work on the dossier's ISO date strings directly: comparing strings is
exact for this format and much cheaper than parsing every date. The functions that parse
are pure and meet the same few thousand days again and again (every rewrite of the read
models recomputes every trajectory's facts and flags), so they remember their answers.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

DAYS_REMEMBERED = 1 << 14  # days (and month offsets) per function: some 45 years of days


@lru_cache(maxsize=DAYS_REMEMBERED)
def add_months(day: str, months: int) -> str:
    """The same day ``months`` later, clamped to the month's last day (08-31 + 6 = 02-28)."""
    d = date.fromisoformat(day)
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last)).isoformat()


@lru_cache(maxsize=DAYS_REMEMBERED)
def next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


@lru_cache(maxsize=DAYS_REMEMBERED)
def previous_day(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def six_months_through(start: str) -> str:
    """The last day a span from ``start`` must reach to cover six months: 01-15 -> 07-14."""
    return previous_day(add_months(start, 6))


def lasts_six_months(start: str, last_day: str) -> bool:
    """True when a span from ``start`` through ``last_day`` (inclusive) covers six months."""
    return last_day >= six_months_through(start)


def overlaps(start_a: str, end_a: str | None, start_b: str, end_b: str | None) -> bool:
    """Closed intervals; ``None`` as an end means open-ended."""
    return (end_b is None or start_a <= end_b) and (end_a is None or start_b <= end_a)


def quarter_end(day: str, quarters_later: int = 0) -> str:
    """The last day of the calendar quarter ``quarters_later`` after the one holding ``day``."""
    d = date.fromisoformat(day)
    index = d.year * 4 + (d.month - 1) // 3 + quarters_later
    year, quarter = divmod(index, 4)
    month = quarter * 3 + 3
    return date(year, month, calendar.monthrange(year, month)[1]).isoformat()
