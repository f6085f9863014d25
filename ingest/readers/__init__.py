"""Source readers and the registry that finds them by format name or file extension.

Built-in readers are declared, like any plug-in, under the `kcrm.readers` entry-point group in
pyproject.toml; another distribution adds a format by declaring its own entry point there, with
no change to kcrm. The built-in table below is the fallback for a checkout whose installed
metadata predates a reader.
"""

from __future__ import annotations

import logging
from functools import cache, lru_cache
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path

from kcrm.foundation.errors import IngestError
from kcrm.ingest.readers.base import RawRow, Reader, ReadItem, ReadLimits

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "kcrm.readers"
BUILTIN = {
    "csv": "kcrm.ingest.readers.tabular:CsvReader",
    "tsv": "kcrm.ingest.readers.tabular:TsvReader",
    "json": "kcrm.ingest.readers.jsonish:JsonReader",
    "jsonl": "kcrm.ingest.readers.jsonish:JsonLinesReader",
    "xml": "kcrm.ingest.readers.xml:XmlReader",
    "turtle": "kcrm.ingest.readers.rdf:TurtleReader",
    "jsonld": "kcrm.ingest.readers.rdf:JsonLdReader",
    "email": "kcrm.ingest.readers.mail:EmailReader",
    "text": "kcrm.ingest.readers.documents:TextReader",
    "markdown": "kcrm.ingest.readers.documents:MarkdownReader",
    "html": "kcrm.ingest.readers.documents:HtmlReader",
    "pdf": "kcrm.ingest.readers.documents:PdfReader",
    "docx": "kcrm.ingest.readers.documents:DocxReader",
    "sql": "kcrm.ingest.readers.sql:SqlReader",
}

__all__ = [
    "ENTRY_POINT_GROUP",
    "RawRow",
    "ReadItem",
    "ReadLimits",
    "Reader",
    "available_formats",
    "format_for",
    "get_reader",
]


def _load(target: str) -> type:
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)


@lru_cache(maxsize=1)
def _registry() -> dict[str, str]:
    """Format name -> 'module:Class', built-ins first, then every installed entry point."""
    table = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in table and table[ep.name] != ep.value:
            log.warning("reader %r from entry point %s replaces %s", ep.name, ep.value, table[ep.name])
        table[ep.name] = ep.value
    return table


def refresh() -> None:
    """Forget the cached registry (after installing a plug-in in a running process)."""
    _registry.cache_clear()
    _classes.cache_clear()


@cache
def _classes(fmt: str) -> type:
    target = _registry()[fmt]
    cls = _load(target)
    if not isinstance(cls(), Reader):
        raise IngestError(f"reader {fmt!r} ({target}) does not implement the Reader protocol")
    return cls


def available_formats() -> list[str]:
    """Every format name a reader is registered for."""
    return sorted(_registry())


def get_reader(fmt: str) -> Reader:
    """A reader for `fmt`, or IngestError listing the known formats."""
    if fmt not in _registry():
        raise IngestError(f"no reader for format {fmt!r}; known: {', '.join(available_formats())}")
    return _classes(fmt)()


def format_for(path: Path) -> str | None:
    """The format whose reader claims this file's extension, if any."""
    suffix = path.suffix.lower()
    for fmt in available_formats():
        try:
            cls = _classes(fmt)
        except (ImportError, AttributeError, IngestError) as exc:
            log.warning("reader %r cannot be loaded: %s", fmt, exc)
            continue
        if suffix in getattr(cls, "extensions", ()):
            return fmt
    return None
