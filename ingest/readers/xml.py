"""XML, read safely: entity declarations (billion laughs) and external references are refused.

Records are the root's children, or every element named by option `records`. An element becomes
a dict: attributes as `@name`, child elements by local name (repeated ones as a list), text as
the value itself for a plain leaf or under `#text` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from kcrm.ingest.readers.base import BadRow, RawRow, ReadItem, ReadLimits, check_size, file_problem, oversized_field
from kcrm.kg.records import Problem


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def element_to_dict(element: Element) -> Any:
    """The element's content as JSON-like data (see the module docstring)."""
    data: dict[str, Any] = {f"@{_local(k)}": v for k, v in element.attrib.items()}
    for child in element:
        key, value = _local(child.tag), element_to_dict(child)
        if key in data:
            existing = data[key]
            data[key] = existing + [value] if isinstance(existing, list) else [existing, value]
        else:
            data[key] = value
    text = (element.text or "").strip()
    if not data:
        return text
    if text:
        data["#text"] = text
    return data


def _refusal(exc: DefusedXmlException) -> str:
    name = type(exc).__name__
    if name == "EntitiesForbidden":
        return f"declares the entity {getattr(exc, 'name', '?')!r}: entity declarations are refused " \
               "(they enable entity-expansion bombs and external entities)"
    if name == "ExternalReferenceForbidden":
        return f"refers to an external resource {getattr(exc, 'sysid', '') or ''!r}: external references are refused"
    if name == "DTDForbidden":
        return "contains a DTD, which is refused"
    return f"refused as unsafe XML: {exc}"


class XmlReader:
    """XML documents; see the module docstring for how elements become rows."""

    format: ClassVar[str] = "xml"
    extensions: ClassVar[tuple[str, ...]] = (".xml",)
    default_mapping: ClassVar[str | None] = None

    def read(self, path: Path, source: str, limits: ReadLimits, options: Mapping[str, Any]) -> Iterator[ReadItem]:
        too_big = check_size(path, source, limits)
        if too_big:
            yield too_big
            return
        wanted = options.get("records")
        depth, record = 0, 0
        counters: dict[str, int] = {}
        try:
            for event, element in iterparse(str(path), events=("start", "end"), forbid_dtd=False,
                                            forbid_entities=True, forbid_external=True):
                if event == "start":
                    depth += 1
                    if depth > limits.max_depth:
                        yield file_problem(source, f"elements nested deeper than {limits.max_depth} levels; "
                                                   "the rest of the file was not read", record + 1)
                        return
                    continue
                depth -= 1
                is_record = _local(element.tag) == wanted if wanted else depth == 1
                if not is_record:
                    continue
                record += 1
                tag = _local(element.tag)
                counters[tag] = counters.get(tag, 0) + 1
                yield self._row(element, source, record, f"{tag}[{counters[tag]}]", limits)
                element.clear()
        except DefusedXmlException as exc:
            yield file_problem(source, f"XML {_refusal(exc)}", record + 1 if record else 0)
        except ParseError as exc:
            line = exc.position[0]
            yield file_problem(source, f"malformed XML: {exc}"
                                       "; the rest of the file was not read", record + 1, f"line {line}")
        else:
            if record == 0:
                yield file_problem(source, f"no <{wanted}> elements found" if wanted else "the root element is empty")

    @staticmethod
    def _row(element: Element, source: str, record: int, locator: str, limits: ReadLimits) -> ReadItem:
        data = element_to_dict(element)
        if not isinstance(data, dict):
            data = {"#text": data}
        found = oversized_field(data, limits)
        if found:
            return BadRow(Problem(source, record, "", found[0], found[1], locator), data)
        return RawRow(source, record, data, locator)
