"""A witness's HTTP interface (its own process, not the ledger's API): ``POST /add-checkpoint``
(c2sp.org/tlog-witness), decided by ``ledger.witness``, and ``GET /`` (its name, cosigner verifier
key and logs, as text). A Starlette app served by uvicorn with keep-alive; requests are decided
in worker threads, whose state transactions take turns.
"""

from __future__ import annotations

import socket

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ledger.witness.witness import Witness

MAX_BODY = 64 * 1024  # an old line, 63 proof lines and a checkpoint with 100 signatures fit easily


def create_witness_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse(f"request body above {MAX_BODY} bytes\n", status_code=413)
        reply = await run_in_threadpool(witness.add_checkpoint, body)
        # the content type exactly as given (no charset appended): clients compare text/x.tlog.size
        return Response(reply.body, status_code=reply.status, headers={"content-type": reply.content_type})

    async def about(_: Request) -> Response:
        logs = "".join(f"log {vkey}\n" for keys in witness.logs.values() for vkey in keys)
        return PlainTextResponse(f"C2SP tlog-witness {witness.name}\nwitness {witness.name} {witness.vkey}\n{logs}")

    return Starlette(routes=[Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
                             Route("/", about, methods=["GET"])])


def listen(host: str, port: int) -> socket.socket:
    """The listening socket (``OSError`` if the address cannot be had), bound before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # inherited by accepted connections (Linux): the answer's headers and body, written apart, go
        # out at once, not 40 ms later (Nagle's algorithm against a keep-alive client's delayed ACK)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def serve_witness(witness: Witness, sock: socket.socket) -> None:
    """Serve on ``sock`` until stopped (SIGINT, SIGTERM)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(create_witness_app(witness), log_level="warning", server_header=False))
    server.run(sockets=[sock])
