"""The projections' one input: recorded entries in dense log order.

Anything with ``entries(start, limit) -> [(log_index, body)]`` is a source: the ``Ledger``
itself, or a list of entry bodies read from an export.

A source may also hold its dossiers folded already (``FoldedSource``): a verified export,
whose verifier re-decided every dossier entry by entry and so evolved every dossier as
``projections.history.fold`` would. The reports of everything recorded take them from it
instead of folding the entries a second time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from ledger.domain.dossier.state import DossierState
from projections.errors import LogGap

Entry = tuple[int, dict[str, Any]]


class EntrySource(Protocol):
    def entries(self, start: int = 0, limit: int = 1000) -> Sequence[Entry]: ...


@runtime_checkable
class FoldedSource(Protocol):
    """A source that holds its dossiers as every entry it hands out leaves them."""

    def entries(self, start: int = 0, limit: int = 1000) -> Sequence[Entry]: ...

    def folded(self) -> Mapping[str, DossierState]:
        """Per client_ref, the dossier its accepted entries make: ``fold`` of all the entries."""
        ...


class ListSource:
    """Entry bodies held in memory, indexed by their position (an export, a test)."""

    def __init__(self, bodies: Sequence[dict[str, Any]] = ()) -> None:
        self.bodies = list(bodies)

    def append(self, body: dict[str, Any]) -> int:
        self.bodies.append(body)
        return len(self.bodies) - 1

    def entries(self, start: int = 0, limit: int = 1000) -> list[Entry]:
        return [(start + i, body) for i, body in enumerate(self.bodies[start:start + limit])]


def checked_page(page: Sequence[Entry], expected_start: int) -> Sequence[Entry]:
    """The page unchanged if its indexes are ``expected_start``, +1, +2, ...; else ``LogGap``."""
    for offset, (index, _) in enumerate(page):
        if index != expected_start + offset:
            raise LogGap(
                f"expected log index {expected_start + offset}, the source gave {index}",
                field="log_index",
            )
    return page


def iter_entries(source: EntrySource, start: int = 0, page_size: int = 1000) -> Iterator[Entry]:
    """Every entry from ``start`` to the end of the log, checked for gaps."""
    position = start
    while True:
        page = checked_page(source.entries(position, page_size), position)
        if not page:
            return
        yield from page
        position += len(page)
