"""What every reader yields and how it is limited.

A reader turns one source file into raw rows: plain dicts, as close to the source as possible,
each tagged with its source and record number so that a rejection can point at it. Whatever is
wrong with a record (or the whole file) comes out as a `Problem`, never as an exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeAlias, runtime_checkable

from kcrm.kg.records import Problem

DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_FIELD_CHARS = 1_000_000
DEFAULT_MAX_DEPTH = 64


@dataclass(frozen=True)
class RawRow:
    """One record as read: `data` is a JSON-able dict; `record` counts from 1 within `source`."""

    source: str
    record: int
    data: dict[str, Any]
    locator: str = ""


@dataclass(frozen=True)
class ReadLimits:
    """Bounds that keep a hostile or broken file from exhausting memory."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_field_chars: int = DEFAULT_MAX_FIELD_CHARS
    max_depth: int = DEFAULT_MAX_DEPTH


@dataclass(frozen=True)
class BadRow:
    """A record the reader could delimit but not accept: the problem, and the raw text or cells for quarantine."""

    problem: Problem
    raw: Any


ReadItem: TypeAlias = RawRow | BadRow | Problem


@runtime_checkable
class Reader(Protocol):
    """A source format. Register one under the `kcrm.readers` entry-point group."""

    format: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    default_mapping: ClassVar[str | None]

    def read(self, path: Path, source: str, limits: ReadLimits, options: Mapping[str, Any]) -> Iterator[ReadItem]:
        """Yield the rows of one file (and a Problem for each bad record or for the whole file)."""
        ...


class ManyFileReader(Protocol):
    """A reader whose records can span files (an e-mail thread spread over several .eml files)."""

    def read_many(self, paths: list[tuple[Path, str]], limits: ReadLimits,
                  options: Mapping[str, Any]) -> Iterator[ReadItem]:
        ...


def file_problem(source: str, reason: str, record: int = 0, locator: str = "") -> Problem:
    """A problem with the file as a whole (record 0) or at a position that is not a record."""
    return Problem(source=source, line=record, uid="", field="", reason=reason, locator=locator)


def check_size(path: Path, source: str, limits: ReadLimits) -> Problem | None:
    """Refuse a file over the size limit before reading a byte of it."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        return file_problem(source, f"file is {size:,} bytes, over the limit of {limits.max_file_bytes:,} bytes "
                                    "(KCRM_INGEST_MAX_FILE_MB)")
    return None


def oversized_field(value: Any, limits: ReadLimits, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """The first (field path, reason) where a value is too long or too deep, else None."""
    if depth > limits.max_depth:
        return path, f"nested deeper than {limits.max_depth} levels"
    if isinstance(value, str):
        if len(value) > limits.max_field_chars:
            return path, f"{len(value):,} characters, over the field limit of {limits.max_field_chars:,}"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = oversized_field(item, limits, f"{path}.{key}" if path else str(key), depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = oversized_field(item, limits, f"{path}[{index}]", depth + 1)
            if found:
                return found
    return None
