"""The composition root: ``create_app(settings)`` builds the ledger, the read service and
the FastAPI app. Nothing is built, connected or read from the environment at import time.

Every route lives under ``/v1``; the OpenAPI document is served at ``/v1/openapi.json``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.middleware import Middleware

from api import openapi, problems
from api.middleware import ApiVersionHeader, BodyLimit, LastResort
from api.queries import Reader
from api.routes import audit, dossiers, envelopes, indicators, ledger_info, log, parties, pseudonyms, receipts, reports, tiles, worklist
from api.settings import ApiSettings
from api.version import API_PREFIX, API_VERSION
from ledger.application import Ledger
from ledger.infra import heap
from ledger.infra.ed25519_pool import Ed25519Pool
from ledger.infra.transparency.published import PublishedCheckpoints
from ledger.infra.transparency.tiles import LogTiles
from ledger.infra.transparency.witnessing import Witnessing
from ledger.settings import Settings
from projections.definitions.registry import installed

TAGS = [
    {"name": "ledger", "description": "Health and the key that signs receipts"},
    {"name": "identity", "description": "BSN to pseudonym (client_ref)"},
    {"name": "submissions", "description": "Signed envelopes in, signed receipts out"},
    {"name": "dossiers", "description": "One client's trajectories, claims and benefits, scoped to the caller"},
    {"name": "registry", "description": "Parties and their keys"},
    {"name": "reports", "description": "Flags and outflow rates across dossiers, scoped to the caller"},
    {"name": "log", "description": "Signed checkpoints, inclusion and consistency proofs, the export bundle"},
]


def witnessing_for(ledger: Ledger) -> Witnessing | None:
    """The witnesses' cosigning rounds on a background thread, when a witness policy is set.
    One process per server runs them: this app's, or with ``serve --workers N`` the manager's."""
    settings = ledger.settings
    if settings.witness_policy is None:
        return None
    return Witnessing(ledger.transparency, settings.witness_policy, every_seconds=settings.witness_every_seconds,
                      timeout=settings.witness_timeout_seconds)


def create_app(settings: ApiSettings | Settings, *, witness_rounds: bool = True, settle_heap: bool = False) -> FastAPI:
    """The app; ``witness_rounds=False`` for the workers of ``serve --workers N`` (their manager
    runs them); ``settle_heap`` for a server process, which builds one app for its lifetime
    (``heap.settle`` once started: not where many apps are built and dropped, as in tests)."""
    config = settings if isinstance(settings, ApiSettings) else ApiSettings(settings)
    pool = Ed25519Pool(config.signing_workers)  # batches' signature checks on every core, while served (no key: they sign nothing)
    tiles.tiles_prefix(config.ledger.log_origin)  # an origin that gives no tile path: refused before a ledger opens
    definitions = installed()
    ledger = Ledger(config.ledger, pool, definitions=definitions.names())  # a commission must name one of them
    reader = Reader(ledger, definitions)
    witnessing = witnessing_for(ledger) if witness_rounds else None  # None without TRAJECTLEDGER_WITNESS_POLICY

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool.start()
        if witnessing is not None:
            witnessing.start()
        if settle_heap:
            heap.settle()  # started: the collector walks only what requests make from now on
        try:
            yield
        finally:
            if witnessing is not None:
                witnessing.close()
            pool.close()
            ledger.close()

    app = FastAPI(
        title="trajectledger", version=API_VERSION, openapi_url=None, docs_url=None, redoc_url=None,
        openapi_tags=TAGS, lifespan=lifespan, redirect_slashes=False,  # a trailing slash is a 404 (API-48)
        middleware=[Middleware(ApiVersionHeader), Middleware(LastResort),
                    Middleware(BodyLimit, max_bytes=config.max_body_bytes)],
    )
    app.state.settings, app.state.ledger, app.state.reader = config, ledger, reader
    app.state.published = PublishedCheckpoints(ledger.transparency, config.ledger.witness_policy)
    problems.install(app)

    v1 = APIRouter(prefix=API_PREFIX)
    for area in (ledger_info, pseudonyms, envelopes, receipts, dossiers, parties, reports, audit, indicators, log, worklist):
        v1.include_router(area.router)
    app.include_router(v1)
    tiles.mount(app, LogTiles(ledger.transparency, ledger.entries), config.ledger.log_origin,  # C2SP tlog-tiles, outside /v1
                app.state.published)

    document: dict[str, Any] = {}

    def openapi_document() -> dict[str, Any]:
        if not document:
            document.update(openapi.build(app, config))
        return document

    app.openapi = openapi_document  # type: ignore[method-assign]

    @app.get(API_PREFIX + "/openapi.json", include_in_schema=False)
    def openapi_json() -> JSONResponse:
        return JSONResponse(app.openapi())

    return app
