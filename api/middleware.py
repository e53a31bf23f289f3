"""Pure ASGI middleware: the API-Version header, the request size limit, the last resort.

In order, outermost first: ``ApiVersionHeader`` (every response, errors included, says
which API answered), ``LastResort`` (an exception that escapes everything becomes a 500
problem without a stack trace) and ``BodyLimit`` (a body larger than the limit is refused
with 413 before the application reads any of it, chunked bodies included).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, MutableMapping

from starlette.datastructures import MutableHeaders

from api import problems
from api.errors import PayloadTooLarge
from api.version import API_VERSION

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
log = logging.getLogger("api.middleware")


class ApiVersionHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def versioned(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["API-Version"] = API_VERSION
            await send(message)

        await self.app(scope, receive, versioned)


class LastResort:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            log.error("unhandled %s on %s %s", type(exc).__name__, scope.get("method"), scope.get("path"), exc_info=exc)
            if started:
                raise  # the response is under way: nothing left to answer with
            body = problems.problem(problems.INTERNAL, "an internal error occurred", "internal")
            await problems.response(problems.INTERNAL, body)(scope, receive, send)


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind, body = problems.error_problem(PayloadTooLarge(f"a request body holds at most {self.max_bytes} bytes",
                                                            field="body"))
        await problems.response(kind, body, {"Connection": "close"})(scope, receive, send)
