"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

from typing import TypeAlias

from hypothesis import strategies as st

from ledger.domain.canonical import SAFE

# what RFC 8785 writes exactly: null, booleans, safe integers, text, and lists and objects of them
JSON: TypeAlias = "None | bool | int | str | list[JSON] | dict[str, JSON]"

# any Unicode text, astral and control characters included (no lone surrogates: not UTF-8)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)

JSON_VALUES: st.SearchStrategy[JSON] = st.recursive(
    st.none() | st.booleans() | st.integers(-SAFE, SAFE) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)
