"""RFC 8785 (JCS) canonical JSON, checked fast.

The ledger's encoder, ``ledger.domain.canonical.canonical_bytes`` (checked against ``rfc8785``), is the reference.
For the values a parsed line can hold here - integers in the IEEE-754 safe range (floats and
NaN are refused while parsing), strings, booleans, null, arrays and objects - the standard
library's C encoder with sorted keys, no spaces and ``ensure_ascii=False`` writes the same
bytes, except in one case: object keys are sorted by code point, JCS sorts them by UTF-16
code unit, and the two orders differ only for characters beyond U+FFFF. Any such text goes
to the reference encoder. Integers beyond 2**53 - 1, which the reference refuses, are
refused while parsing. A flat object (the usual payload) that is plainly canonical is
told so without encoding it (``_flat_and_canonical``). ``tests/unit/test_verify_canonical.py``
cross-checks all of these.
"""

from __future__ import annotations

import json
from typing import Any

from ledger.domain.canonical import SAFE, canonical_bytes, encode_text


class CanonicalError(ValueError):
    """Not UTF-8, not JSON, a number that is not a safe integer, or not canonical."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule


def _integer(text: str) -> int:
    value = int(text)
    if len(text) > 15 and not -SAFE <= value <= SAFE:  # 2**53 has 16 digits
        raise CanonicalError("json.integer", f"{text} is outside the safe integer range of RFC 8785")
    return value


def _no_float(text: str) -> Any:
    raise CanonicalError("json.integer", f"{text}: numbers are integers")


_SCAN = json.JSONDecoder(parse_int=_integer, parse_float=_no_float, parse_constant=_no_float).scan_once  # type: ignore[attr-defined]


def dumps(value: Any) -> bytes:
    """The canonical bytes of a value parsed by ``loads`` (or built of the same kinds: no
    floats, no integers beyond 2**53 - 1)."""
    text = encode_text(value)
    if not text.isascii() and max(text) > "\uffff":
        return canonical_bytes(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, from a \\ud800 escape
        raise CanonicalError("json.unicode", "a string holds a lone surrogate") from exc


def loads(line: bytes) -> Any:
    """Parse one JSON text; raise ``CanonicalError`` unless ``line`` is its canonical form."""
    try:
        text = line.decode("utf-8")
        value, end = _SCAN(text, 0)
    except UnicodeDecodeError as exc:
        raise CanonicalError("json.utf8", "not UTF-8") from exc
    except CanonicalError:
        raise
    except (ValueError, StopIteration) as exc:
        raise CanonicalError("json.syntax", f"not JSON: {exc}") from exc
    if _flat_and_canonical(text, value, end):
        return value
    if encode_text(value) == text and (text.isascii() or max(text) <= "\uffff"):
        return value  # the usual case, compared as text (UTF-8 is one-to-one)
    if dumps(value) != line:  # trailing bytes included
        raise CanonicalError("json.canonical", "not in RFC 8785 canonical form")
    return value


def _flat_and_canonical(text: str, value: Any, end: int) -> bool:
    """Whether ``text`` (parsed to ``value``, ending at ``end``) is plainly canonical, told
    without encoding; False leaves it to the encoder. Plainly canonical: the whole text is
    one object with no other object or array in it, no backslash and no whitespace, no
    member ``-0``, its keys strictly increasing and none beyond U+FFFF. Then every string is
    written as RFC 8785 writes it (nothing to escape: the parser refuses raw control
    characters), every number too (the parser reads only ``-?(0|[1-9][0-9]*)`` as an
    integer; ``-0`` would read as 0), nothing separates the tokens, and the members are in
    JCS order. The text has at least as many commas as members less one (more if a string
    holds a comma) and at least as many members as parsed keys (more if a key repeats: the
    parser keeps one), so equality means each key is there once, in the text's order."""
    if type(value) is not dict or end != len(text) or "\\" in text or " " in text or "\n" in text or "\t" in text \
            or "\r" in text or "[" in text or text.find("{", 1) != -1 or 0 in value.values() and ":-0" in text:
        return False
    keys = [*value]
    return len(keys) == text.count(",") + 1 and keys == sorted(keys) and (text.isascii() or max(text) <= "\uffff")
