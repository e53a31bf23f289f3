"""The council report's formats, chosen by the output file's suffix, written whole or not at all."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from reporting.council import CouncilReport
from reporting.errors import UnsupportedReportFormat
from reporting.html import write_html
from reporting.xlsx import write_xlsx

Writer = Callable[[CouncilReport, Path], None]
WRITERS: dict[str, Writer] = {".xlsx": write_xlsx, ".html": write_html}
SUFFIXES = tuple(WRITERS)


def writer(path: Path) -> Writer:
    """The writer for ``path``'s suffix; it writes a file next to ``path`` and renames it into place,
    so a report that fails half-way leaves no file (and never half of one)."""
    chosen = WRITERS.get(path.suffix.lower())
    if chosen is None:
        raise UnsupportedReportFormat(f"{path.name!r}: the file's suffix chooses the format, one of "
                                      f"{', '.join(SUFFIXES)}", field="--out")

    def write(report: CouncilReport, target: Path) -> None:
        name = target.parent / f".{target.name}.{secrets.token_hex(6)}{target.suffix}"
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # as open() would: the umask applies
        try:
            chosen(report, name)
            os.replace(name, target)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise

    return write
