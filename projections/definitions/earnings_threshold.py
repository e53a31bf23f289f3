"""earnings-threshold: verified work reaching a threshold of hours x weeks, in the style of the
UK's payment-by-results outcome (cumulative earnings equal to a number of hours a week for a
number of weeks), set as parameters of the definition (issue 15).

Success once the hours of verified employment (``EmploymentVerified`` at the employer of a
confirmed, attributable placement of the trajectory that is no secondment via the provider)
from the trajectory's start through the peildatum add up to ``hours_per_week x weeks``
(default 16 x 26 = 416 hours). A period that gives hours per week counts those hours for
each of its days (hours / 7 a day); a period that gives only the wage counts the wage divided
by ``hourly_wage_cents`` (default 1406: the Dutch statutory minimum wage per hour at
1 January 2025), spread evenly over its days. Where verified periods of one job overlap
(a polis check and a payslip for one month), each day counts once, at the higher rate.
Only work within ``window_months`` (default 24) of the trajectory's start counts; once
that window is over without reaching the threshold, the verdict is a failure; until then it
is pending. The credited provider is the trajectory's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from fractions import Fraction

from projections.definitions.base import Definition, Verdict, failure, not_started, on_facts, pending, success
from projections.definitions.facts import TrajectoryFacts
from projections.periods import add_months, next_day
from projections.verification import Period

NAME = "earnings-threshold"
VERSION = "1"
HOURS_PER_WEEK, WEEKS, HOURLY_WAGE_CENTS, WINDOW_MONTHS = 16, 26, 1406, 24


def _days(first: str, last: str) -> int:
    return (date.fromisoformat(last) - date.fromisoformat(first)).days + 1


def _daily_rate(period: Period, hourly_wage_cents: int) -> Fraction:
    """Hours a day this period verifies."""
    if period.hours_per_week is not None:
        return Fraction(period.hours_per_week, 7)
    wage = period.wage_cents or 0
    return Fraction(wage, hourly_wage_cents * _days(period.period_from, period.period_to))


def verified_hours(periods: Iterable[Period], first: str, last: str, hourly_wage_cents: int) -> Fraction:
    """Hours verified by one job's periods on the days ``first`` .. ``last``; a day covered by
    several periods counts once, at the highest rate."""
    clipped = [(max(p.period_from, first), min(p.period_to, last), _daily_rate(p, hourly_wage_cents))
               for p in periods if p.period_to >= first and p.period_from <= last]
    bounds = sorted({b for start, end, _ in clipped for b in (start, next_day(end))})
    total = Fraction(0)
    for begin, stop in zip(bounds, bounds[1:]):  # elementary stretches [begin, stop)
        rates = [rate for start, end, rate in clipped if start <= begin and end >= begin]
        if rates:
            total += max(rates) * (_days(begin, stop) - 1)
    return total


def earnings_threshold(hours_per_week: int = HOURS_PER_WEEK, weeks: int = WEEKS,
                       hourly_wage_cents: int = HOURLY_WAGE_CENTS, window_months: int = WINDOW_MONTHS) -> Definition:
    """The definition with these parameters (the built-in one has the defaults)."""
    threshold = hours_per_week * weeks

    def decide(facts: TrajectoryFacts, p: str) -> Verdict:
        if facts.start > p:
            return not_started(facts)
        window_last = min(p, add_months(facts.start, window_months))
        jobs = [pl for pl in facts.placements if pl.verified and not pl.secondment and pl.job_start <= p]
        total = sum((verified_hours(pl.verified, facts.start, window_last, hourly_wage_cents) for pl in jobs),
                    Fraction(0))
        detail = f"{float(total):.0f} verified hours of {threshold} ({hours_per_week} h x {weeks} weeks)"
        if total >= threshold:
            return success("threshold-reached", detail + f" by {window_last}", facts.provider)
        if p >= add_months(facts.start, window_months):
            return failure("threshold-not-reached", detail + f" within {window_months} months of the start")
        return pending("below-threshold", detail + " so far")

    summary = (f"verified work of at least {hours_per_week} h x {weeks} weeks ({threshold} hours) within "
               f"{window_months} months of the start (wage at {hourly_wage_cents} cents an hour)")
    return on_facts(NAME, VERSION, summary, decide)


DEFINITION = earnings_threshold()
judge = DEFINITION.judge
