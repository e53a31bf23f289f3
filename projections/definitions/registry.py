"""Which definitions exist: the eight built in, plus plugins from entry points.

An audit office adds a definition by publishing a package with an entry point in the
group ``trajectledger.definitions`` whose name is the definition's name and whose object
is a ``Definition`` (or a function with no arguments returning one). Loading fails closed:
a plugin that does not load, or that reuses a name, is an error, never skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import metadata
from typing import Any

from projections.definitions import (
    composite_2009,
    contract_6m,
    contract_6m_verified,
    earnings_threshold,
    ladder_step,
    six_month_rule,
    six_month_rule_verified,
    voluntary_stop,
)
from projections.definitions.base import Definition
from projections.errors import DuplicateDefinition, InvalidPlugin, UnknownDefinition

ENTRY_POINT_GROUP = "trajectledger.definitions"
BUILTIN: tuple[Definition, ...] = (
    six_month_rule.DEFINITION,
    ladder_step.DEFINITION,
    voluntary_stop.DEFINITION,
    contract_6m.DEFINITION,
    composite_2009.DEFINITION,
    six_month_rule_verified.DEFINITION,  # issue 15: versions that require wage data, and the UK-style threshold
    contract_6m_verified.DEFINITION,
    earnings_threshold.DEFINITION,
)
BUILTIN_NAMES = tuple(d.name for d in BUILTIN)


class DefinitionRegistry:
    def __init__(self, definitions: Iterable[Definition] = BUILTIN) -> None:
        self._by_name: dict[str, Definition] = {}
        for definition in definitions:
            self.register(definition)

    def register(self, definition: Definition) -> None:
        if not isinstance(definition, Definition):
            raise InvalidPlugin(f"{definition!r} is not a Definition", field="definition")
        existing = self._by_name.get(definition.name)
        if existing is not None and existing is not definition:
            raise DuplicateDefinition(
                f"{definition.label} reuses the name of {existing.label}", field="definition.name"
            )
        self._by_name[definition.name] = definition

    def get(self, name: str) -> Definition:
        definition = self._by_name.get(name)
        if definition is None:
            raise UnknownDefinition(
                f"no definition {name!r}; known: {', '.join(self.names())}", field="definition"
            )
        return definition

    def resolve(self, names: Sequence[str]) -> list[Definition]:
        """The named definitions, in order, without repeats; each composite's components
        must be known too."""
        chosen = [self.get(name) for name in dict.fromkeys(names)]
        for definition in chosen:
            for component in definition.components:
                self.get(component)
        return chosen

    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Definition]:
        return iter(self._by_name.values())

    def load_plugins(self, entry_points: Callable[..., Any] = metadata.entry_points) -> list[str]:
        """Register every definition published in the entry-point group; return their names."""
        loaded: dict[str, str] = {}
        for point in entry_points(group=ENTRY_POINT_GROUP):
            if loaded.get(point.name) == point.value:
                continue  # the same distribution seen twice on sys.path
            try:
                target = point.load()
            except Exception as exc:  # any import failure of foreign code: fail closed
                raise InvalidPlugin(f"entry point {point.name} = {point.value} does not load: {exc}",
                                    field=ENTRY_POINT_GROUP) from exc
            definition = target if isinstance(target, Definition) else _call(target, point)
            if definition.name != point.name:
                raise InvalidPlugin(
                    f"entry point {point.name!r} loads a definition named {definition.name!r}",
                    field=ENTRY_POINT_GROUP,
                )
            self.register(definition)
            loaded[point.name] = point.value
        return list(loaded)


def _call(target: Any, point: Any) -> Definition:
    if not callable(target):
        raise InvalidPlugin(f"entry point {point.name} = {point.value} is not a Definition", field=ENTRY_POINT_GROUP)
    try:
        definition = target()
    except Exception as exc:  # foreign code again
        raise InvalidPlugin(f"entry point {point.name} = {point.value} failed: {exc}", field=ENTRY_POINT_GROUP) from exc
    if not isinstance(definition, Definition):
        raise InvalidPlugin(f"entry point {point.name} = {point.value} returned {definition!r}",
                            field=ENTRY_POINT_GROUP)
    return definition


def installed() -> DefinitionRegistry:
    """The built-in definitions and every installed plugin (call at the edge, not at import)."""
    registry = DefinitionRegistry()
    registry.load_plugins()
    return registry
