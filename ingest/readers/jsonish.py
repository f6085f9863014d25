"""JSON documents (an array of records, or the array at a path) and JSON Lines."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from kcrm.ingest.readers.base import (
    BadRow,
    RawRow,
    ReadItem,
    ReadLimits,
    check_size,
    file_problem,
    oversized_field,
)
from kcrm.ingest.readers.encoding import EncodingUnknown, decode_bytes
from kcrm.kg.records import Problem


def _decoded(path: Path, source: str, limits: ReadLimits, options: Mapping[str, Any]) -> str | Problem:
    too_big = check_size(path, source, limits)
    if too_big:
        return too_big
    try:
        return decode_bytes(path.read_bytes(), source, options.get("encoding"))[0]
    except EncodingUnknown as exc:
        return file_problem(source, str(exc))


def _row(value: Any, source: str, record: int, locator: str, limits: ReadLimits) -> ReadItem:
    if not isinstance(value, dict):
        return BadRow(Problem(source, record, "", "", f"a record must be a JSON object, got {_kind(value)}",
                              locator), {"value": value})
    found = oversized_field(value, limits)
    if found:
        return BadRow(Problem(source, record, str(value.get("uid", ""))[:200], found[0], found[1], locator), value)
    return RawRow(source, record, value, locator)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def _at_path(document: Any, path: str) -> tuple[Any, str]:
    """Follow a dotted path (`data.customers`) into a document; KeyError names the missing step."""
    node, where = document, "$"
    for step in [s for s in path.split(".") if s]:
        if not isinstance(node, dict) or step not in node:
            raise KeyError(f"no key {step!r} at {where}")
        node, where = node[step], f"{where}.{step}"
    return node, where


def _parse(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) or (exc.msg.startswith("Unterminated string")
                                                       and '"' not in text[exc.pos + 1:])
        what = "truncated JSON" if truncated else "malformed JSON"
        raise ValueError(f"{what} at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None


class JsonReader:
    """A JSON document: its top-level array, the array at option `records` (a dotted path), or one object."""

    format: ClassVar[str] = "json"
    extensions: ClassVar[tuple[str, ...]] = (".json",)
    default_mapping: ClassVar[str | None] = None

    def read(self, path: Path, source: str, limits: ReadLimits, options: Mapping[str, Any]) -> Iterator[ReadItem]:
        text = _decoded(path, source, limits, options)
        if isinstance(text, Problem):
            yield text
            return
        try:
            document = _parse(text, source)
            records, where = _at_path(document, options.get("records") or "")
        except (ValueError, KeyError) as exc:
            yield file_problem(source, str(exc).strip('"'))
            return
        if not isinstance(records, list):
            yield _row(records, source, 1, where, limits)
            return
        for index, value in enumerate(records):
            yield _row(value, source, index + 1, f"{where}[{index}]", limits)


class JsonLinesReader:
    """JSON Lines: one JSON object per line; a bad line is rejected, the others still read."""

    format: ClassVar[str] = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson")
    default_mapping: ClassVar[str | None] = None

    def read(self, path: Path, source: str, limits: ReadLimits, options: Mapping[str, Any]) -> Iterator[ReadItem]:
        text = _decoded(path, source, limits, options)
        if isinstance(text, Problem):
            yield text
            return
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                value = _parse(line, source)
            except ValueError as exc:
                yield BadRow(Problem(source, number, "", "", str(exc).replace("at line 1 column", "at column"),
                                     f"line {number}"), {"line": line})
                continue
            yield _row(value, source, number, f"line {number}", limits)
