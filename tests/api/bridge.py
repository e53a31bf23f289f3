"""A synchronous httpx transport onto an ASGI app, in-process (no server, no sockets).

httpx's own ``ASGITransport`` is async only; this runs it on an anyio blocking portal (a
thread with an event loop), so the synchronous SDK ``sdk.client.LedgerClient`` and plain
``httpx.Client`` can drive the app through the real HTTP stack: middleware, routing,
validation, exception handlers and serialisation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Any

import anyio.from_thread
import httpx


class ASGIBridge(httpx.BaseTransport):
    def __init__(self, app: Any) -> None:
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        self._inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.AsyncByteStream):  # e.g. a generator body: keep its chunks
            request.stream = _Chunks(list(request.stream))

        async def call() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)

        return self._portal.call(call)

    def close(self) -> None:
        """Clients sharing the bridge close it when they close: keep it running."""

    def shutdown(self) -> None:
        self._stack.close()


class _Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
