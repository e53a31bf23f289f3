"""Dutch by default, English through a gettext message catalogue.

The pages are written in Dutch (the msgids); ``locale/en/LC_MESSAGES/dashboard.po`` holds the
English translation, ``locale/nl/...`` the Dutch labels of the ledger's codes (statuses, verdicts,
roles: English words in the ledger). Each catalogue is compiled when it is loaded (Babel reads the .po and writes the .mo in memory), so
a clean install needs only the .po files that ship as package data.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT = "nl"
LANGUAGES = ("nl", "en")
DOMAIN = "dashboard"


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language`` (Dutch: the msgids themselves); ValueError for another."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    po = resources.files("dashboard").joinpath("locale", language, "LC_MESSAGES", f"{DOMAIN}.po")
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
