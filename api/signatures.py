"""HTTP Message Signatures (RFC 9421) on requests, as the API verifies them. Pure: no FastAPI.

The scheme
----------
Every read (and the pseudonym lookup) carries one signature by a registered party's
Ed25519 key. The request sends::

    Signature-Input: sig1=("@method" "@path" "@query" "content-digest");created=1700000000;expires=1700000060;keyid="ed25519:0123456789abcdef";alg="ed25519"
    Signature: sig1=:<base64 of the 64-byte Ed25519 signature>:
    Content-Digest: sha-256=:<base64 of SHA-256 of the body>:      (only with a body)

1. ``Signature-Input`` and ``Signature`` are RFC 8941 dictionaries with exactly one member,
   under the same label (any label; the SDK uses ``sig1``). Component parameters (``;sf``,
   ``;key``, ``;bs``, ``;req``) are not supported.
2. Covered components must include ``"@method"``, ``"@path"`` and ``"@query"`` (``@query`` is
   ``?`` plus the raw query string, so ``?`` when there is none; ``@path`` is the raw,
   percent-encoded path as sent). With a non-empty body they must include
   ``"content-digest"``, and the body must match the ``Content-Digest`` field (RFC 9530;
   ``sha-256`` or ``sha-512``; every listed algorithm we know must match). Other covered
   components may be ``@authority`` or any header field the request carries.
3. Parameters: ``created`` (integer, required), ``keyid`` (string, required: the party's
   registered key id, ``ed25519:`` + 16 hex digits), ``expires`` (integer, optional),
   ``alg`` (optional; if present ``"ed25519"``), ``nonce`` and ``tag`` (accepted, unused).
4. Freshness: ``created`` at most ``signature_max_age`` seconds (default 300) in the past
   and at most ``clock_skew`` seconds (default 30) in the future; ``expires``, if present,
   not passed.
5. The signature base is RFC 9421 §2.5: ``"<component>": <value>`` lines, then
   ``"@signature-params": <the inner list with its parameters, as RFC 8941 serialises it>``,
   joined by ``\\n`` without a final newline, signed with Ed25519 (RFC 9421 §3.3.6).
6. ``keyid`` must name a live key of exactly one registered party; the request then acts
   as that party, in its registered role.

Each failure raises ``AuthenticationFailed`` naming its rule: ``signature.missing``,
``signature.malformed``, ``signature.components``, ``signature.expired``,
``signature.not-yet-valid``, ``digest.mismatch``, ``key.unknown``, ``key.revoked``,
``signature.invalid``. Replays within the freshness window are possible: reads only,
and only over TLS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api.errors import AuthenticationFailed
from sdk.http_signatures import serialize_signature_params, signature_base

REQUIRED = ("@method", "@path", "@query")
DERIVED = frozenset({"@method", "@path", "@query", "@authority"})
PARAMETERS = frozenset({"created", "expires", "keyid", "alg", "nonce", "tag"})
DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*")
_HEADER = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")

Bare = int | str | bool | bytes


def _malformed(detail: str, field: str) -> AuthenticationFailed:
    return AuthenticationFailed(detail, rule="signature.malformed", field=field)


class _Parser:
    """The subset of RFC 8941 that the three fields use: dictionaries of items and inner lists."""

    def __init__(self, text: str, field: str) -> None:
        self.text, self.i, self.field = text, 0, field

    def dictionary(self) -> dict[str, tuple[Bare | list[tuple[Bare, dict[str, Bare]]], dict[str, Bare]]]:
        members: dict[str, tuple[Bare | list[tuple[Bare, dict[str, Bare]]], dict[str, Bare]]] = {}
        self._spaces()
        while self.i < len(self.text):
            key = self._key()
            value: Bare | list[tuple[Bare, dict[str, Bare]]] = True
            if self._peek() == "=":
                self.i += 1
                value = self._inner_list() if self._peek() == "(" else self._bare()
            members[key] = (value, self._params())
            self._spaces()
            if self.i == len(self.text):
                break
            if self._peek() != ",":
                raise _malformed("expected ',' between dictionary members", self.field)
            self.i += 1
            self._spaces()
            if self.i == len(self.text):
                raise _malformed("trailing comma", self.field)
        return members

    def _peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def _spaces(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t":
            self.i += 1

    def _key(self) -> str:
        match = _KEY.match(self.text, self.i)
        if not match:
            raise _malformed("expected a key", self.field)
        self.i = match.end()
        return match.group()

    def _inner_list(self) -> list[tuple[Bare, dict[str, Bare]]]:
        self.i += 1
        items: list[tuple[Bare, dict[str, Bare]]] = []
        while True:
            while self._peek() == " ":
                self.i += 1
            if self._peek() == ")":
                self.i += 1
                return items
            items.append((self._bare(), self._params()))
            if self._peek() not in (" ", ")"):
                raise _malformed("expected ' ' or ')' in an inner list", self.field)

    def _params(self) -> dict[str, Bare]:
        params: dict[str, Bare] = {}
        while self._peek() == ";":
            self.i += 1
            self._spaces()
            key = self._key()
            value: Bare = True
            if self._peek() == "=":
                self.i += 1
                value = self._bare()
            params[key] = value
        return params

    def _bare(self) -> Bare:
        ch = self._peek()
        if ch == '"':
            return self._string()
        if ch == ":":
            end = self.text.find(":", self.i + 1)
            if end < 0:
                raise _malformed("unterminated byte sequence", self.field)
            chunk, self.i = self.text[self.i + 1:end], end + 1
            try:
                return base64.b64decode(chunk, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise _malformed("a byte sequence is not base64", self.field) from exc
        if ch == "?":
            value, self.i = self.text[self.i:self.i + 2], self.i + 2
            if value not in ("?0", "?1"):
                raise _malformed("a boolean is ?0 or ?1", self.field)
            return value == "?1"
        number = re.compile(r"-?[0-9]{1,15}(?![0-9.])").match(self.text, self.i)
        if number:
            self.i = number.end()
            return int(number.group())
        token = _TOKEN.match(self.text, self.i)
        if token:
            self.i = token.end()
            return token.group()
        raise _malformed("expected an integer, a string, a token, a boolean or bytes", self.field)

    def _string(self) -> str:
        out, self.i = [], self.i + 1
        while self.i < len(self.text):
            ch = self.text[self.i]
            self.i += 1
            if ch == "\\":
                if self._peek() not in ('"', "\\"):
                    raise _malformed("bad escape in a string", self.field)
                out.append(self.text[self.i])
                self.i += 1
            elif ch == '"':
                return "".join(out)
            elif not " " <= ch <= "~":
                raise _malformed("a string holds printable ASCII only", self.field)
            else:
                out.append(ch)
        raise _malformed("unterminated string", self.field)


def parse_dictionary(text: str, field: str) -> dict[str, tuple[Bare | list[tuple[Bare, dict[str, Bare]]], dict[str, Bare]]]:
    return _Parser(text.strip(" "), field).dictionary()


@dataclass(frozen=True)
class RequestSignature:
    label: str
    components: tuple[str, ...]
    params: tuple[tuple[str, int | str], ...]
    signature: bytes

    def param(self, name: str) -> int | str | None:
        return dict(self.params).get(name)

    @property
    def key_id(self) -> str:
        return str(self.param("keyid"))

    def signature_params(self) -> str:
        return serialize_signature_params(self.components, self.params)


def parse_signature(signature_input: str | None, signature: str | None) -> RequestSignature:
    """Step 1: the two fields, one member each under the same label."""
    if not signature_input or not signature:
        raise AuthenticationFailed("this operation needs a signed request (RFC 9421)", rule="signature.missing",
                                   field="Signature-Input")
    inputs = parse_dictionary(signature_input, "Signature-Input")
    signatures = parse_dictionary(signature, "Signature")
    if len(inputs) != 1 or set(inputs) != set(signatures):
        raise _malformed("exactly one signature, with the same label in both fields", "Signature-Input")
    label = next(iter(inputs))
    covered, params = inputs[label]
    value, _ = signatures[label]
    if not isinstance(covered, list) or not isinstance(value, bytes) or len(value) != 64:
        raise _malformed("expected an inner list of components and a 64-byte signature", "Signature")
    names = []
    for item, item_params in covered:
        if not isinstance(item, str) or item_params or item != item.lower():
            raise _malformed("components are lowercase strings without parameters", "Signature-Input")
        names.append(item)
    if len(set(names)) != len(names):
        raise _malformed("a component is listed twice", "Signature-Input")
    checked: list[tuple[str, int | str]] = []
    for name, param in params.items():
        if isinstance(param, (bool, bytes)):
            raise _malformed(f"parameter {name} must be an integer or a string", "Signature-Input")
        checked.append((name, param))
    return RequestSignature(label, tuple(names), tuple(checked), value)


def check_policy(sig: RequestSignature, *, has_body: bool, now: int, max_age: int, skew: int) -> None:
    """Steps 2-4: covered components, parameters, freshness."""
    required = REQUIRED + (("content-digest",) if has_body else ())
    missing = [name for name in required if name not in sig.components]
    if missing:
        raise AuthenticationFailed(f"the signature must cover {', '.join(missing)}", rule="signature.components",
                                   field="Signature-Input")
    for name in sig.components:
        if name.startswith("@") and name not in DERIVED or not name.startswith("@") and not _HEADER.fullmatch(name):
            raise AuthenticationFailed(f"unsupported component {name}", rule="signature.components",
                                       field="Signature-Input")
    unknown = sorted(set(dict(sig.params)) - PARAMETERS)
    if unknown:
        raise _malformed(f"unknown parameter {unknown[0]}", "Signature-Input")
    created, expires, key_id, alg = (sig.param(n) for n in ("created", "expires", "keyid", "alg"))
    if not isinstance(created, int) or not isinstance(key_id, str):
        raise _malformed("created (an integer) and keyid (a string) are required", "Signature-Input")
    if expires is not None and not isinstance(expires, int) or alg not in (None, "ed25519"):
        raise _malformed("expires is an integer and alg, if given, \"ed25519\"", "Signature-Input")
    if created > now + skew:
        raise AuthenticationFailed("the signature was created in the future", rule="signature.not-yet-valid",
                                   field="Signature-Input")
    if now - created > max_age or (isinstance(expires, int) and now > expires):
        raise AuthenticationFailed(f"the signature has expired (at most {max_age} s old)", rule="signature.expired",
                                   field="Signature-Input")


def base_for(sig: RequestSignature, method: str, raw_path: str, raw_query: str,
             headers: Sequence[tuple[str, str]], authority: str) -> bytes:
    """Step 5: the signature base from the request as received."""
    derived = {"@method": method.upper(), "@path": raw_path or "/", "@query": "?" + raw_query,
               "@authority": authority.lower()}
    values = []
    for name in sig.components:
        if name in derived:
            values.append((name, derived[name]))
            continue
        found = [value.strip(" \t") for key, value in headers if key.lower() == name]
        if not found:
            raise AuthenticationFailed(f"the signed header {name} is missing", rule="signature.components",
                                       field=name)
        values.append((name, ", ".join(found)))
    try:
        return signature_base(values, sig.signature_params())
    except (UnicodeEncodeError, ValueError) as exc:
        raise _malformed("the signature base must be ASCII without newlines in values", "Signature-Input") from exc


def check_digest(field_value: str | None, body: bytes) -> None:
    """RFC 9530: every algorithm listed that we know must match the body; at least one."""
    if not field_value:
        raise AuthenticationFailed("a request with a body needs Content-Digest", rule="digest.mismatch",
                                   field="Content-Digest")
    known = 0
    for name, (value, _) in parse_dictionary(field_value, "Content-Digest").items():
        if name not in DIGESTS:
            continue
        known += 1
        if not isinstance(value, bytes) or not hmac.compare_digest(value, DIGESTS[name](body).digest()):
            raise AuthenticationFailed(f"the body does not match its {name} digest", rule="digest.mismatch",
                                       field="Content-Digest")
    if not known:
        raise AuthenticationFailed("Content-Digest needs sha-256 or sha-512", rule="digest.mismatch",
                                   field="Content-Digest")


def verify(public_key: bytes, base: bytes, signature: bytes) -> None:
    """Step 6 (after the key lookup): Ed25519 over the signature base."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, base)
    except InvalidSignature as exc:
        raise AuthenticationFailed("the request signature does not verify", rule="signature.invalid",
                                   field="Signature") from exc
