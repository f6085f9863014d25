"""Apply a mapping source to raw rows: its entity records (with their relationships) or one link per row.

Values are taken from the row, translated, split, converted to the ontology's datatype and
cleaned, in that order; anything that fails becomes a Problem naming the record and the field.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kcrm.ingest.cleaning import CleaningError, clean, coerce, default_kind
from kcrm.ingest.mapping import TEMPLATE_FIELD, EndSpec, EntityMap, FieldSpec, MappingFile, SourceMap
from kcrm.ingest.readers.base import RawRow
from kcrm.ingest.readers.rdf import local_name
from kcrm.kg.records import Link, Problem, Record, RelRef
from kcrm.ontology.model import Ontology, PropertySpec

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_ABSENT = object()


class RowError(ValueError):
    """A value the mapping asks for is missing or unusable; `field` says which."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


@dataclass
class Mapped:
    """What one raw row became."""

    records: list[Record] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def get_value(data: Mapping[str, Any], path: str) -> Any:
    """The value at a column name or dotted path (`lines[0].sku`); `_ABSENT` when there is none."""
    if path in data:
        node: Any = data[path]
    else:
        node = data
        for key, index in _STEP.findall(path):
            if key and isinstance(node, Mapping) and key in node:
                node = node[key]
            elif index and isinstance(node, list) and int(index) < len(node):
                node = node[int(index)]
            else:
                return _ABSENT
    if isinstance(node, Mapping) and "#text" in node and all(k.startswith("@") or k == "#text" for k in node):
        return node["#text"]
    return node


def _filter(value: str, name: str) -> str:
    if name == "digest":
        return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
    if name == "slug":
        return re.sub(r"[^\w]+", "-", unicodedata.normalize("NFKC", value).lower()).strip("-")
    if name == "local":
        return local_name(value)
    transforms: dict[str, Callable[[str], str]] = {"upper": str.upper, "lower": str.lower, "strip": str.strip}
    return transforms[name](value)


class RowMapper:
    """Maps the rows of one mapping source."""

    def __init__(self, mapping: MappingFile, source: SourceMap, ontology: Ontology) -> None:
        self.source = source
        self.ontology = ontology
        self.null_values = frozenset(source.null_values if source.null_values is not None else mapping.null_values)
        self.phone_region = source.phone_region or mapping.phone_region

    def _is_null(self, value: Any) -> bool:
        return value is None or value is _ABSENT or (isinstance(value, str) and value.strip() in self.null_values)

    def _lookup(self, contexts: tuple[Mapping[str, Any], ...], path: str) -> Any:
        for data in contexts:
            value = get_value(data, path)
            if value is not _ABSENT:
                return value
        return _ABSENT

    def render(self, template: str, contexts: tuple[Mapping[str, Any], ...], where: str) -> str:
        """Fill a template's {field|filter} placeholders; RowError when a field is missing or empty."""

        def one(match: re.Match[str]) -> str:
            path, filters = match.group(1).strip(), [f for f in match.group(2).split("|") if f]
            value = self._lookup(contexts, path)
            if value is _ABSENT:
                raise RowError(where, f"the record has no {path!r}")
            if isinstance(value, Mapping) and "@id" in value:
                value = value["@id"]
            if self._is_null(value) or isinstance(value, (dict, list)):
                raise RowError(where, f"{path!r} is empty" if self._is_null(value) else f"{path!r} is not a value")
            text = str(value).strip()
            for name in filters:
                text = _filter(text, name)
            return text

        return TEMPLATE_FIELD.sub(one, template)

    def value(self, name: str, spec: FieldSpec, prop: PropertySpec, contexts: tuple[Mapping[str, Any], ...],
              where: str) -> Any:
        """One property's stored value (None when empty); RowError when it cannot be made valid."""
        if spec.value is not None:
            raw: Any = spec.value
        elif spec.template is not None:
            raw = self.render(spec.template, contexts, where)
        else:
            raw = self._lookup(contexts, spec.column or "")
            if raw is _ABSENT and prop.required and spec.default is None:
                raise RowError(where, f"is required, but the record has no {spec.column!r}")
        if self._is_null(raw):
            raw = spec.default
            if raw is None:
                return None
        if isinstance(raw, Mapping) and "@id" in raw:
            raw = raw["@id"]
        if spec.values is not None and isinstance(raw, (str, int)) and str(raw) in spec.values:
            raw = spec.values[str(raw)]
        if spec.split and isinstance(raw, str):
            raw = [part.strip() for part in raw.split(spec.split) if part.strip()]
        try:
            items = raw if isinstance(raw, list) else [raw]
            items = [coerce(prop.datatype, item) for item in items]
            items = [clean(spec.clean or default_kind(prop), item, self.phone_region, spec.date_format)
                     for item in items]
        except CleaningError as exc:
            raise RowError(where, str(exc)) from None
        return items if isinstance(raw, list) else items[0]

    def properties(self, specs: Mapping[str, PropertySpec], fields: Mapping[str, FieldSpec],
                   contexts: tuple[Mapping[str, Any], ...], prefix: str) -> tuple[dict[str, Any], list[RowError]]:
        props: dict[str, Any] = {}
        errors: list[RowError] = []
        for name, spec in fields.items():
            try:
                value = self.value(name, spec, specs[name], contexts, f"{prefix}{name}")
            except RowError as exc:
                errors.append(exc)
                continue
            if value is not None and value != []:
                props[name] = value
        return props, errors

    def _end(self, end: EndSpec, contexts: tuple[Mapping[str, Any], ...], where: str) -> str:
        return self.render(end.uid, contexts, where)

    def map(self, row: RawRow) -> Mapped:
        """Turn one raw row into records/links, or problems that say which field and why."""
        out = Mapped()

        def problem(uid: str, error: RowError) -> Problem:
            return Problem(row.source, row.record, uid, error.field, str(error), row.locator)

        contexts = (row.data,)
        if self.source.link is not None:
            link = self.source.link
            try:
                start = self._end(link.from_, contexts, "from.uid")
                end = self._end(link.to, contexts, "to.uid")
            except RowError as exc:
                out.problems.append(problem("", exc))
                return out
            specs = self.ontology.relationship(link.type).edge_properties
            props, errors = self.properties(specs, link.properties, contexts, f"rels.{link.type}.")
            uid = f"{start}->{end}"
            out.problems.extend(problem(uid, e) for e in errors)
            if not errors:
                out.links.append(Link(link.type, start, link.from_.cls, end, link.to.cls, props, row.source,
                                      row.record))
            return out
        for entity in self.source.entity_maps:
            self._entity(entity, row, contexts, out, problem)
        if out.problems:
            out.records.clear()
        return out

    def _entity(self, entity: EntityMap, row: RawRow, contexts: tuple[Mapping[str, Any], ...], out: Mapped,
                problem: Any) -> None:
        """One entity of the row: a record, or the problems that keep it (and so the row) out."""
        try:
            uid = self.render(entity.uid, contexts, "uid")
        except RowError as exc:
            out.problems.append(problem("", exc))
            return
        props, errors = self.properties(self.ontology.classes[entity.cls].properties, entity.properties,
                                        contexts, "props.")
        rels, rel_errors = self._relationships(entity, row, contexts)
        errors += rel_errors
        out.problems.extend(problem(uid, e) for e in errors)
        if not errors:
            rank = None
            if entity.latest_by is not None:
                found = self._lookup(contexts, entity.latest_by)
                rank = None if self._is_null(found) else str(found).strip()
            out.records.append(Record(entity.cls, uid, props, tuple(rels), row.source, row.record, rank))

    def _relationships(self, entity: EntityMap, row: RawRow, contexts: tuple[Mapping[str, Any], ...]
                       ) -> tuple[list[RelRef], list[RowError]]:
        rels: list[RelRef] = []
        errors: list[RowError] = []
        for rel in entity.relationships:
            where = f"rels.{rel.type}"
            items: list[Any] = [None]
            if rel.each:
                found = get_value(row.data, rel.each)
                if found is _ABSENT or found is None:
                    found = []
                if isinstance(found, dict):
                    found = [found]
                if not isinstance(found, list) or not all(isinstance(i, dict) for i in found):
                    errors.append(RowError(where, f"{rel.each!r} is not a list of objects"))
                    continue
                items = found
            for item in items:
                scope = (item, *contexts) if item is not None else contexts
                try:
                    other = self._end(rel.other, scope, where)
                except RowError as exc:
                    if not rel.optional:
                        errors.append(exc)
                    continue
                specs = self.ontology.relationship(rel.type).edge_properties
                props, prop_errors = self.properties(specs, rel.properties, scope, f"{where}.")
                errors.extend(prop_errors)
                rels.append(RelRef(rel.type, other, rel.other.cls, outgoing=rel.to is not None, props=props))
        return rels, errors
