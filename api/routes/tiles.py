"""The log as C2SP tlog-tiles, read-only: ``<prefix>/checkpoint``, ``<prefix>/tile/<L>/<N>[.p/<W>]``
and ``<prefix>/tile/entries/<N>[.p/<W>]``.

The prefix is the path of the log origin (``TRAJECTLEDGER_LOG_ORIGIN``, the tiles' URL without
its scheme): origin ``ledger.haarlem.example/tlog`` serves ``/tlog/checkpoint``. These are
byte resources for tlog clients, not JSON resources, so they stay out of the OpenAPI
document (and its API Design Rules) and outside ``/v1``. ``checkpoint`` is the one the ledger
publishes (``ledger.infra.transparency.published``): with a witness policy, the newest one its
quorum cosigned, as tlog clients that check witnesses expect; the tiles are cut so that every
tree up to the newest stored checkpoint finds its tiles. Full tiles never change: cacheable
forever; partial tiles and the checkpoint for a few seconds. A missing or malformed tile
path is a plain 404, as a static file server would answer.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from api.version import API_PREFIX
from ledger.domain.merkle.errors import TreeInputError
from ledger.domain.merkle.tiles import parse_tile_path
from ledger.infra.transparency.published import NotWitnessed, PublishedCheckpoints
from ledger.infra.transparency.tiles import LogTiles
from ledger.settings import SettingsError

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=5"
NOTE_TYPE = "text/plain; charset=utf-8"
TILE_TYPE = "application/octet-stream"


def tiles_prefix(origin: str) -> str:
    """The URL path the tiles are served under: the origin without its host ('' for a bare host)."""
    path = origin.partition("/")[2].strip("/")
    prefix = "/" + path if path else ""
    if prefix == API_PREFIX or prefix.startswith(API_PREFIX + "/") or any(c in path for c in "?#\\ "):
        raise SettingsError(f"the log origin {origin!r} cannot give the tiles' URL path: it must be "
                            f"<host>[/<path>] with a path outside {API_PREFIX}")
    return prefix


def mount(app: FastAPI, tiles: LogTiles, origin: str, published: PublishedCheckpoints) -> str:
    """Add the tile routes to ``app`` (outside the OpenAPI document); the prefix used.
    ``checkpoint`` serves ``published.newest()``."""
    prefix = tiles_prefix(origin)

    def checkpoint() -> Response:
        try:
            note = published.newest().note
        except (NotWitnessed, TreeInputError) as exc:  # none the quorum cosigned; none at all
            return PlainTextResponse(f"{exc}\n", 404, headers={"Cache-Control": "no-store"})
        return Response(note, media_type=NOTE_TYPE, headers={"Cache-Control": SHORT_LIVED})

    def tile(request: Request) -> Response:
        path = request.url.path[len(prefix) + 1:]
        try:
            found = parse_tile_path(path)
            data = tiles.read(found)
        except TreeInputError as exc:  # malformed, beyond the checkpoint, an entry over 64 KiB
            return PlainTextResponse(f"{exc}\n", 404, headers={"Cache-Control": "no-store"})
        cache = IMMUTABLE if found.full else SHORT_LIVED
        return Response(data, media_type=TILE_TYPE, headers={"Cache-Control": cache})

    app.add_api_route(prefix + "/checkpoint", checkpoint, methods=["GET"], include_in_schema=False)
    app.add_api_route(prefix + "/tile/{path:path}", tile, methods=["GET"], include_in_schema=False)
    return prefix
