"""The synthetic history's calendar: a fixed window of days, always in the past."""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import cache

REGISTERED_ON = date(2020, 12, 1)  # the parties exist before the first fact
FIRST_DAY = date(2021, 1, 1)
LAST_DAY = date(2026, 6, 30)  # the horizon: nothing is generated after it
SIX_MONTHS = timedelta(days=183)


def days(count: int) -> timedelta:
    return timedelta(days=count)


def between(rng: random.Random, first: date, last: date) -> date:
    """A uniformly drawn day in [first, last]; ``first`` when the range is empty."""
    span = (last - first).days
    return first if span <= 0 else first + timedelta(days=rng.randint(0, span))


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")  # unreachable: day 28 always exists


@cache
def iso(day: date) -> str:
    """ISO text of a day, shared between payloads (a few thousand distinct days)."""
    return day.isoformat()
