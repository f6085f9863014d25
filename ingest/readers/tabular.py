"""CSV and TSV: one raw row per data line, keyed by the header's column names."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from kcrm.ingest.readers.base import BadRow, RawRow, ReadItem, ReadLimits, check_size, file_problem
from kcrm.ingest.readers.encoding import EncodingUnknown, decode_bytes
from kcrm.kg.records import Problem

DELIMITERS = (",", ";", "\t", "|")


def _delimiter(header_line: str, default: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts.get(default, 0) else default


def _header(row: list[str], source: str) -> list[str] | Problem:
    names = [name.strip().lstrip("\ufeff") for name in row]
    if any(not name for name in names):
        return file_problem(source, f"header has an empty column name at position {names.index('') + 1}",
                            locator="line 1")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return file_problem(source, f"header names column {name!r} twice", locator="line 1")
        seen.add(name)
    return names


class CsvReader:
    """Comma-separated values (the delimiter is taken from the header line: , ; tab or |)."""

    format: ClassVar[str] = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv",)
    default_mapping: ClassVar[str | None] = None
    default_delimiter: ClassVar[str] = ","

    def read(self, path: Path, source: str, limits: ReadLimits, options: Mapping[str, Any]) -> Iterator[ReadItem]:
        too_big = check_size(path, source, limits)
        if too_big:
            yield too_big
            return
        try:
            text, _ = decode_bytes(path.read_bytes(), source, options.get("encoding"))
        except EncodingUnknown as exc:
            yield file_problem(source, str(exc))
            return
        yield from self.read_text(text, source, limits, options)

    def read_text(self, text: str, source: str, limits: ReadLimits, options: Mapping[str, Any]) -> Iterator[ReadItem]:
        """Parse already-decoded text (also used for uploads that arrive decoded)."""
        first_line = text.split("\n", 1)[0]
        delimiter = options.get("delimiter") or _delimiter(first_line, self.default_delimiter)
        csv.field_size_limit(2 * limits.max_field_chars + 1)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        header: list[str] | None = None
        record = 0
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                reason = str(exc)
                if "field limit" in reason:
                    reason = f"a field is over twice the field limit of {limits.max_field_chars:,} characters"
                yield file_problem(source, f"malformed CSV at line {reader.line_num}: {reason}; the rest of the "
                                           "file was not read", record + 1, f"line {start}")
                return
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                parsed = _header(row, source)
                if isinstance(parsed, Problem):
                    yield parsed
                    return
                header = parsed
                continue
            record += 1
            yield self._row(header, row, source, record, start, limits)
        if header is None:
            yield file_problem(source, "no header line: the file is empty")

    @staticmethod
    def _row(header: list[str], row: list[str], source: str, record: int, line: int,
             limits: ReadLimits) -> ReadItem:
        locator = f"line {line}"
        if len(row) != len(header):
            return BadRow(Problem(source, record, "", "", f"{len(row)} fields where the header has {len(header)}",
                                  locator), {"cells": row})
        data = dict(zip(header, row))
        for name, cell in data.items():
            if len(cell) > limits.max_field_chars:
                return BadRow(Problem(source, record, "", name, f"{len(cell):,} characters, over the field limit "
                                                                f"of {limits.max_field_chars:,}", locator), data)
            if "\x00" in cell:
                return BadRow(Problem(source, record, "", name, "contains a NUL byte", locator), data)
        return RawRow(source, record, data, locator)


class TsvReader(CsvReader):
    """Tab-separated values."""

    format: ClassVar[str] = "tsv"
    extensions: ClassVar[tuple[str, ...]] = (".tsv", ".tab")
    default_delimiter: ClassVar[str] = "\t"
