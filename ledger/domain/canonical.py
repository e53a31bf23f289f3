"""RFC 8785 (JCS) canonical JSON of the values the ledger signs and hashes.

The ``rfc8785`` package (pure Python) is the reference. For the values the ledger holds -
integers in the IEEE-754 safe range (floats are refused), strings, booleans, null, lists
and objects with string keys - the standard library's C encoder with sorted keys, no spaces
and ``ensure_ascii=False`` writes the same bytes, and about five times faster, except in one
case: object keys are sorted by code point, JCS sorts them by UTF-16 code unit, and the two
orders differ only for characters beyond U+FFFF. Any text holding such a character, and any
value that is not of exactly those kinds, goes to the reference encoder.
``tests/unit/test_canonical.py`` cross-checks the two.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from ledger.domain.errors import MalformedSubmission

SAFE = 2**53 - 1  # the integers JCS can write exactly


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 canonical JSON. Floats, integers beyond 2**53 - 1 and non-string keys are
    refused with the path of the first one (``json.integer``, ``json.key``)."""
    if _plain(value):
        text = encode_text(value)
        if text.isascii() or max(text) <= "\uffff":
            try:
                return text.encode("utf-8")
            except UnicodeEncodeError:
                pass  # a lone surrogate: the reference names the problem
    return _reference(value)


def _plain(value: Any) -> bool:
    """Only exact str/int/bool/None/list/dict with str keys, integers in the safe range."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-SAFE <= value <= SAFE)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) is not str and not _plain(item)):
                return False
        return True
    if kind is list:
        for item in value:
            if type(item) is not str and not _plain(item):
                return False
        return True
    return False


def _reference(value: Any) -> bytes:
    _refuse(value, "payload")
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedSubmission(f"cannot canonicalise: {exc}", rule="json.canonical", field="payload") from exc


def _refuse(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise MalformedSubmission("numbers must be integers", rule="json.integer", field=path)
    if isinstance(value, int) and not isinstance(value, bool) and not -SAFE <= value <= SAFE:
        raise MalformedSubmission("integers must lie within +-(2**53 - 1)", rule="json.integer", field=path)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise MalformedSubmission("object keys must be strings", rule="json.key", field=path)
            _refuse(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse(item, f"{path}[{i}]")


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False,
                            check_circular=False)
# the C encoder behind JSONEncoder.encode, made once rather than on every call (as encode does)
_C_ENCODER = None if json.encoder.c_make_encoder is None else json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, _not_json, json.encoder.encode_basestring, None, ":", ",", True, False, False)


def encode_text(value: Any) -> str:
    """The text the standard library's C encoder writes for ``value`` (sorted keys, no
    spaces, no ASCII escaping): RFC 8785's text for values already known to be plain and
    free of characters beyond U+FFFF. No checks: ``canonical_bytes`` is the checked way."""
    if type(value) is str or _C_ENCODER is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))
