"""The composition root of the dashboard: ``create_dashboard(source)`` -> a FastAPI app of
server-rendered pages (Jinja2), static files and CSV downloads, all served from the package.

Pages: ``/`` overview (and a bundle's verification checklist), ``/claims`` the queue,
``/claims/{client_ref}/{claim_id}`` and ``/trajectories/{client_ref}/{trajectory_id}`` the
drill-down, ``/payments``, ``/flags``; ``/csv/{table}.csv`` any table as CSV. Actions are POST
forms carrying a per-process token (a page of another site cannot make the dashboard sign).
"""

from __future__ import annotations

import hmac
import secrets
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader

from dashboard import pages
from dashboard.cache import PerVersion
from dashboard.i18n import DEFAULT, LANGUAGES, translations
from dashboard.sources import DashboardError, NotAvailable, Source
from ledger.domain.errors import LedgerError
from sdk.client import ClientError

LANGUAGE_COOKIE = "trajectledger-lang"


def create_dashboard(source: Source) -> FastAPI:
    app = FastAPI(title="trajectledger dashboard", openapi_url=None, docs_url=None, redoc_url=None)
    environment = Environment(loader=PackageLoader("dashboard", "templates"), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True)
    cache = PerVersion(source.version)
    token = secrets.token_urlsafe(32)
    static = resources.files("dashboard").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    def language(request: Request) -> str:
        chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE) or DEFAULT
        return chosen if chosen in LANGUAGES else DEFAULT

    def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        lang = language(request)
        _ = translations(lang).gettext
        page = environment.get_template(template).render(
            _=_, lang=lang, who=source.who, token=token, path=request.url.path,
            query=str(request.url.query), **context)
        return HTMLResponse(page, status_code=status)

    def page(request: Request, name: str, template: str, **params: str) -> HTMLResponse:
        _ = translations(language(request)).gettext
        try:
            context = pages.build(name, source, cache, language(request), _, **params)
        except NotAvailable as exc:  # outside the party's scope, or no such claim: as the API, absent
            return render(request, "error.html.j2", status=404, error=str(exc), title=_("Fout"))
        except (DashboardError, ClientError, LedgerError) as exc:
            return render(request, "error.html.j2", status=502, error=str(exc), title=_("Fout"))
        if name == "overview":
            context = {**context, "age": pages.age(context["health"], _)}
        return render(request, template, **context)

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        return page(request, "overview", "overview.html.j2")

    @app.get("/claims", response_class=HTMLResponse)
    def claims(request: Request, status: str = "claimed", provider: str = "", flag: str = "",
               period: str = "") -> HTMLResponse:
        return page(request, "claims", "claims.html.j2", status=status, provider=provider, flag=flag, period=period)

    @app.get("/claims/{client_ref}/{claim_id}", response_class=HTMLResponse)
    def claim(request: Request, client_ref: str, claim_id: str) -> HTMLResponse:
        return page(request, "claim", "drilldown.html.j2", client_ref=client_ref, claim_id=claim_id)

    @app.get("/trajectories/{client_ref}/{trajectory_id}", response_class=HTMLResponse)
    def trajectory(request: Request, client_ref: str, trajectory_id: str) -> HTMLResponse:
        return page(request, "trajectory", "drilldown.html.j2", client_ref=client_ref, trajectory_id=trajectory_id)

    @app.get("/payments", response_class=HTMLResponse)
    def payments(request: Request) -> HTMLResponse:
        return page(request, "payments", "payments.html.j2")

    @app.get("/flags", response_class=HTMLResponse)
    def flags(request: Request) -> HTMLResponse:
        return page(request, "flags", "flags.html.j2")

    @app.get("/csv/{name}.csv")
    def csv(request: Request, name: str) -> Response:
        _ = translations(language(request)).gettext
        try:
            table = pages.table(name, source, cache, language(request), _, dict(request.query_params))
        except KeyError:
            return PlainTextResponse(f"no table named {name!r}", status_code=404)
        except (DashboardError, ClientError, LedgerError) as exc:
            return PlainTextResponse(str(exc), status_code=502)
        return Response(table.csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{table.key}.csv"'})

    @app.post("/claims/{client_ref}/{claim_id}/{action}", response_class=HTMLResponse)
    async def act(request: Request, client_ref: str, claim_id: str, action: str) -> HTMLResponse:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if not hmac.compare_digest(form.get("token", ""), token) or not _same_origin(request):
            return render(request, "error.html.j2", status=403, title="403",
                          error="dashboard.token: this form was not sent by this dashboard's own page")
        try:
            receipt = source.act(action, client_ref, claim_id, form.get("reason") or None)
        except DashboardError as exc:
            cache.clear()  # a refusal is recorded too
            return render(request, "receipt.html.j2", status=409 if getattr(exc, "receipt", None) else 400,
                          error=exc, receipt=getattr(exc, "receipt", None), client_ref=client_ref, claim_id=claim_id,
                          action=action, title=translations(language(request)).gettext("Ontvangstbewijs"))
        cache.clear()  # the queue and the figures read the ledger again
        return render(request, "receipt.html.j2", title=translations(language(request)).gettext("Ontvangstbewijs"),
                      error=None, receipt=receipt, client_ref=client_ref,
                      claim_id=claim_id, action=action)

    @app.get("/lang/{code}")
    def switch(code: str, next: str = "/") -> Response:
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        if code in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, code, samesite="strict", httponly=True)
        return response

    return app


def _same_origin(request: Request) -> bool:
    """An Origin header, when the browser sends one, must be this dashboard's own."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"
