"""Valid, made-up BSNs (9 digits passing the 11-test), drawn deterministically."""

from __future__ import annotations

import random

from ledger.domain.identity import BSN_WEIGHTS


def draw_bsn(rng: random.Random) -> str:
    """Eight random digits and the check digit that makes the 11-test pass.

    The check digit d9 satisfies sum(d_i * w_i, i < 9) - d9 = 0 (mod 11); when that
    would be 10 the draw is repeated. The first digit is never 0, so 000000000 cannot occur.
    """
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
        check = sum(d * w for d, w in zip(digits, BSN_WEIGHTS[:8], strict=True)) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


def draw_bsns(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct BSNs, in the order drawn."""
    seen: set[str] = set()
    result: list[str] = []
    while len(result) < count:
        bsn = draw_bsn(rng)
        if bsn not in seen:
            seen.add(bsn)
            result.append(bsn)
    return result
