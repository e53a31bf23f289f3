"""Output formats for reports: an aligned text table, CSV, or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

FORMATS = ("table", "csv", "json")


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def as_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    return out.getvalue()


def as_text(table: Table) -> str:
    cells = [table.columns] + [[_cell(v) for v in row] for row in table.rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]
    lines = [table.title, "  ".join(c.ljust(w) for c, w in zip(table.columns, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells[1:]]
    if not table.rows:
        lines.append("(none)")
    return "\n".join(lines) + "\n"


def render(fmt: str, tables: Sequence[Table], document: Any) -> str:
    """``tables`` for table and csv (CSV sections are separated by one empty line),
    ``document`` for json."""
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return "\n".join(as_csv(t) for t in tables)
    if fmt == "table":
        return "\n".join(as_text(t) for t in tables)
    raise ValueError(f"format is one of {', '.join(FORMATS)}, not {fmt!r}")
