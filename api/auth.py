"""Who is calling: the read credential is an HTTP Message Signature (RFC 9421) by a
registered party's live Ed25519 key (the scheme: ``api.signatures``). Writes need none:
the envelope's own signature is verified by the ledger.

``Signed`` is the dependency of every signed operation; ``allow(*roles)`` narrows it to
roles (403 otherwise). The registry is read as stored now, so a key revoked by any
process is refused by every process from then on.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Callable, Sequence

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api import signatures
from api.access import Caller
from api.deps import get_reader, get_settings
from api.errors import Forbidden
from api.queries import Reader
from api.settings import ApiSettings

SECURITY: dict[str, Any] = {"security": [{"httpSignature": []}]}


def authenticate(reader: Reader, settings: ApiSettings, method: str, raw_path: str, raw_query: str,
                 headers: Sequence[tuple[str, str]], body: bytes, now: int) -> Caller:
    """The numbered steps of ``api.signatures``: parse, policy, base, digest, key, verify."""
    def field(name: str) -> str | None:
        values = [value for key, value in headers if key.lower() == name]
        return ", ".join(values) if values else None

    sig = signatures.parse_signature(field("signature-input"), field("signature"))
    signatures.check_policy(sig, has_body=bool(body), now=now, max_age=settings.signature_max_age,
                            skew=settings.clock_skew)
    base = signatures.base_for(sig, method, raw_path, raw_query, headers, field("host") or "")
    if body:
        signatures.check_digest(field("content-digest"), body)
    caller, public_key = reader.key_holder(sig.key_id)
    signatures.verify(public_key, base, sig.signature)
    return caller


async def signed(request: Request, reader: Annotated[Reader, Depends(get_reader)],
                 settings: Annotated[ApiSettings, Depends(get_settings)]) -> Caller:
    body = await request.body()
    raw_path = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
    return await run_in_threadpool(
        authenticate, reader, settings, request.method, raw_path.decode("latin-1"),
        request.scope.get("query_string", b"").decode("latin-1"), headers, body, int(time.time()))


Signed = Annotated[Caller, Depends(signed)]


def allow(*roles: str) -> Callable[[Caller], Caller]:
    """A dependency: the signed caller, if its role is one of ``roles``."""
    def check(caller: Signed) -> Caller:
        if caller.role not in roles:
            raise Forbidden(f"a {caller.role} may not use this operation (only: {', '.join(roles)})",
                            field="Signature-Input")
        return caller

    return check
