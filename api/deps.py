"""Dependencies the routes declare: the application objects built by ``create_app`` and
pagination. Nothing here is built at import time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Sequence

from fastapi import Depends, Query, Request

from api.queries import Reader
from api.settings import ApiSettings
from ledger.application import Ledger
from ledger.infra.transparency.published import PublishedCheckpoints

MAX_PAGE = 500


def get_ledger(request: Request) -> Ledger:
    return request.app.state.ledger  # type: ignore[no-any-return]


def get_reader(request: Request) -> Reader:
    return request.app.state.reader  # type: ignore[no-any-return]


def get_published(request: Request) -> PublishedCheckpoints:
    return request.app.state.published  # type: ignore[no-any-return]


def get_settings(request: Request) -> ApiSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int

    def page(self, items: Sequence[Any]) -> dict[str, Any]:
        return {"items": list(items[self.offset:self.offset + self.limit]), "limit": self.limit,
                "offset": self.offset, "total": len(items)}


def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9, description="items to skip")] = 0,
) -> Paging:
    return Paging(limit, offset)


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
ReaderDep = Annotated[Reader, Depends(get_reader)]
PublishedDep = Annotated[PublishedCheckpoints, Depends(get_published)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
PagingDep = Annotated[Paging, Depends(paging)]
