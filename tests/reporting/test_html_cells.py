"""How the page shows a value: the Dutch way, exactly (amounts are cents, never floats)."""

from __future__ import annotations

import pytest

from reporting.council import COUNT, EURO, FLAG, RATE, TEXT
from reporting.html import format_cell


@pytest.mark.parametrize(("kind", "value", "shown"), [
    (EURO, 123456789, "€ 1.234.567,89"),
    (EURO, 5, "€ 0,05"),
    (EURO, 0, "€ 0,00"),
    (RATE, 0.4545454545, "45,5%"),
    (RATE, None, "–"),
    (FLAG, True, "ja"),
    (FLAG, False, ""),
    (COUNT, 12, "12"),
    (TEXT, "<b>", "<b>"),  # escaped by the template, not here
])
def test_a_value_as_the_page_shows_it(kind: str, value: object, shown: str) -> None:
    assert format_cell(kind, value) == shown
