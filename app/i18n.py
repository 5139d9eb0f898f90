"""Languages of the customer side: English msgids in the source, a zh_CN catalogue, compiled on demand.

Every customer-facing string is written in English in the code and templates (``_("My orders")``)
and translated by ``app/translations/zh_Hans_CN/LC_MESSAGES/messages.po``. ``make install`` compiles
the catalogues with ``pybabel compile``; so that a checkout without that step still speaks
Chinese, ``compile_catalogues`` (run by ``create_app``) compiles any ``.mo`` that is missing or
older than its ``.po``. The locale of a request is chosen in ``app/views/language.py``.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES = {"zh_CN": "中文", "en": "English"}   # code -> the language's own name (for the switcher)
DEFAULT_LOCALE = "zh_CN"                        # the shop is Chinese
SOURCE_LOCALE = "en"                            # the msgids' language: outside a request, nothing is translated

log = logging.getLogger(__name__)


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``messages.po`` under ``directory`` whose ``.mo`` is missing or stale; return those written.

    The ``.mo`` is written to a temporary file and renamed into place, so processes starting at
    the same time never read half a file. A read-only checkout logs a warning and keeps the
    source language for that catalogue.
    """
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        try:
            _compile(po_path, mo_path)
        except OSError as error:
            log.warning("cannot compile %s (%s): run `make translations-compile`", po_path, error)
            continue
        written.append(mo_path)
    return written


def _compile(po_path: Path, mo_path: Path) -> None:
    with po_path.open("rb") as source:
        catalog = read_po(source, locale=po_path.parent.parent.name)
    handle, temporary = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(handle, "wb") as target:
            write_mo(target, catalog)
        os.replace(temporary, mo_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
