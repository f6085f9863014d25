"""RDF (Turtle, JSON-LD): one raw row per subject IRI, its predicates keyed by local name.

Remote JSON-LD contexts are refused before parsing: reading a file must never fetch a URL.
Blank-node objects are inlined as nested dicts, so a mapping can reach into them with a path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF

from kcrm.ingest.readers.base import BadRow, RawRow, ReadItem, ReadLimits, check_size, file_problem, oversized_field
from kcrm.kg.records import Problem


def local_name(iri: str) -> str:
    """The part after the last '#' or '/'."""
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _python(value: Any, graph: Graph, depth: int) -> Any:
    if isinstance(value, Literal):
        plain = value.toPython()
        if isinstance(plain, bool | int | float | str):
            return plain
        if isinstance(plain, Decimal):
            return float(plain)
        return plain.isoformat() if hasattr(plain, "isoformat") else str(value)
    if isinstance(value, BNode) and depth < 8:
        return _subject(graph, value, depth + 1)
    return {"@id": str(value)}


def _subject(graph: Graph, subject: URIRef | BNode, depth: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {"@id": str(subject)} if isinstance(subject, URIRef) else {}
    keys: dict[str, str] = {}
    for predicate, obj in sorted(graph.predicate_objects(subject)):
        if predicate == RDF.type:
            data.setdefault("@type", []).append(str(obj))
            continue
        key = local_name(str(predicate))
        if keys.setdefault(key, str(predicate)) != str(predicate):
            key = str(predicate)
        value = _python(obj, graph, depth)
        if key in data:
            data[key] = (data[key] if isinstance(data[key], list) else [data[key]]) + [value]
        else:
            data[key] = value
    return data


def _syntax_error(exc: Exception) -> str:
    """rdflib's parse error as one line with the line number it happened at."""
    why, text, offset = getattr(exc, "_why", None), getattr(exc, "_str", None), getattr(exc, "_i", None)
    if why and isinstance(text, bytes) and isinstance(offset, int):
        line = text[:offset].count(b"\n") + 1
        return f"{why} at line {line}"
    return " ".join(str(exc).split())[:300]


def _remote_context(node: Any) -> str | None:
    """The first remote context or import a JSON-LD document asks for, if any."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@context" and (isinstance(value, str) or
                                      (isinstance(value, list) and any(isinstance(v, str) for v in value))):
                return value if isinstance(value, str) else next(v for v in value if isinstance(v, str))
            if key == "@import" and isinstance(value, str):
                return value
            found = _remote_context(value)
            if found:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _remote_context(value)
            if found:
                return found
    return None


class TurtleReader:
    """RDF in Turtle."""

    format: ClassVar[str] = "turtle"
    extensions: ClassVar[tuple[str, ...]] = (".ttl",)
    default_mapping: ClassVar[str | None] = None
    rdflib_format: ClassVar[str] = "turtle"

    def read(self, path: Path, source: str, limits: ReadLimits, options: Mapping[str, Any]) -> Iterator[ReadItem]:
        too_big = check_size(path, source, limits)
        if too_big:
            yield too_big
            return
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            yield file_problem(source, f"RDF must be UTF-8: bad byte at offset {exc.start}")
            return
        refusal = self.refuse(text)
        if refusal:
            yield file_problem(source, refusal)
            return
        graph = Graph()
        try:
            graph.parse(data=text, format=self.rdflib_format, publicID=f"urn:kcrm:source:{source}")
        except Exception as exc:  # rdflib raises many unrelated types for bad syntax
            yield file_problem(source, f"not valid {self.format}: {_syntax_error(exc)}")
            return
        subjects = sorted({s for s in graph.subjects() if isinstance(s, URIRef)}, key=str)
        if not subjects:
            yield file_problem(source, "no subjects with an IRI in the graph")
        for number, subject in enumerate(subjects, start=1):
            data = _subject(graph, subject)
            found = oversized_field(data, limits)
            if found:
                yield BadRow(Problem(source, number, "", found[0], found[1], f"<{subject}>"), data)
            else:
                yield RawRow(source, number, data, f"<{subject}>")

    def refuse(self, text: str) -> str | None:
        """Why this document must not be parsed at all (None when it may)."""
        return None


class JsonLdReader(TurtleReader):
    """RDF in JSON-LD, with inline contexts only."""

    format: ClassVar[str] = "jsonld"
    extensions: ClassVar[tuple[str, ...]] = (".jsonld",)
    rdflib_format: ClassVar[str] = "json-ld"

    def refuse(self, text: str) -> str | None:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            return f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        except RecursionError:
            return "JSON nested too deeply to read"
        remote = _remote_context(document)
        if remote:
            return f"uses the remote context {remote!r}: kcrm never fetches URLs while reading; inline the context"
        return None
