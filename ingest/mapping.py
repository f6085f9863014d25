"""Declarative mappings (YAML) from a source's columns or paths to ontology classes and relationships.

A mapping file lists sources; each names the files it covers (a glob) and either an `entity`
(one node per row: class, uid template, properties, relationships), `entities` (several nodes
per row, for flat exports whose every row carries a ticket, its customer and its product) or a
`link` (one relationship per row, such as an order line). Every source whose glob matches a file
applies to it, so several sources may also name one file. The file is checked with pydantic and then against the
ontology; every mistake is a `MappingError` that names the file and line. See
`ingest/mappings/northwind.yaml` for a complete example.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kcrm.foundation.errors import MappingError
from kcrm.ingest.cleaning import KINDS
from kcrm.ontology.model import Ontology, PropertySpec

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
TEMPLATE_FIELD = re.compile(r"\{([^{}|]+)((?:\|[a-z]+)*)\}")
FILTERS = frozenset({"digest", "slug", "upper", "lower", "strip", "local"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _check_template(template: str) -> str:
    if not TEMPLATE_FIELD.search(template):
        raise ValueError(f"template {template!r} names no field: write it like 'CUS-{{customerID}}'")
    for _, filters in TEMPLATE_FIELD.findall(template):
        unknown = {f for f in filters.split("|") if f} - FILTERS
        if unknown:
            raise ValueError(f"unknown template filter {min(unknown)!r}; known: {', '.join(sorted(FILTERS))}")
    leftover = TEMPLATE_FIELD.sub("", template)
    if "{" in leftover or "}" in leftover:
        raise ValueError(f"template {template!r} has an unbalanced brace")
    return template


class FieldSpec(_Strict):
    """Where one value comes from: a column/path, a constant, or a template; then how it is cleaned."""

    column: str | None = Field(None, description="CSV column, or a dotted path into JSON/XML/RDF rows.")
    value: Any = Field(None, description="A constant.")
    template: str | None = Field(None, description="Text with {field} placeholders.")
    clean: str | None = Field(None, description=f"Cleaning to apply instead of the default: {', '.join(KINDS)}.")
    split: str | None = Field(None, description="Split the text on this separator into a list.")
    values: dict[str, Any] | None = Field(None, description="Translate source values (e.g. P1: high).")
    date_format: str | None = Field(None, description="strptime format for dates written ambiguously.")
    default: Any = Field(None, description="Used when the source value is empty.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"column": data}
        if isinstance(data, dict) and "path" in data and "column" not in data:
            data = {**data, "column": data["path"]}
            del data["path"]
        return data

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [n for n in ("column", "value", "template") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of column (or path), value, template")
        if self.template is not None:
            _check_template(self.template)
        if self.clean is not None and self.clean not in KINDS:
            raise ValueError(f"unknown cleaning {self.clean!r}; known: {', '.join(KINDS)}")
        return self


class EndSpec(_Strict):
    """The other end of a relationship: its class and the template of its uid."""

    cls: str = Field(alias="class")
    uid: str

    @field_validator("uid")
    @classmethod
    def _uid_template(cls, value: str) -> str:
        return _check_template(value)


class RelationshipMap(_Strict):
    """A relationship from (or to) the row's entity; with `each`, one per item of a list in the row."""

    type: str
    to: EndSpec | None = None
    from_: EndSpec | None = Field(None, alias="from")
    each: str | None = Field(None, description="Path to a list in the row; fields then read from each item.")
    properties: dict[str, FieldSpec] = Field(default_factory=dict)
    optional: bool = Field(False, description="Skip (instead of reject) when the other end's key is empty.")

    @model_validator(mode="after")
    def _one_end(self) -> RelationshipMap:
        if (self.to is None) == (self.from_ is None):
            raise ValueError("give exactly one of 'to' or 'from'")
        return self

    @property
    def other(self) -> EndSpec:
        return self.to or self.from_  # type: ignore[return-value]


class EntityMap(_Strict):
    """One node per row; rows that repeat its uid fold into one node (see `kcrm.ingest.fold`)."""

    cls: str = Field(alias="class")
    uid: str
    properties: dict[str, FieldSpec] = Field(default_factory=dict)
    relationships: list[RelationshipMap] = Field(default_factory=list)
    latest_by: str | None = Field(None, description="Column whose greatest value wins when rows that repeat a "
                                                    "uid disagree on a property; without it the first row wins.")

    @field_validator("uid")
    @classmethod
    def _uid_template(cls, value: str) -> str:
        return _check_template(value)


class LinkMap(_Strict):
    """One relationship per row between two nodes that other sources create."""

    type: str
    from_: EndSpec = Field(alias="from")
    to: EndSpec
    properties: dict[str, FieldSpec] = Field(default_factory=dict)


class SourceMap(_Strict):
    """Which files (a glob on the path relative to what is ingested) and how their rows map."""

    file: str
    format: str | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="Reader options: encoding, delimiter, records.")
    null_values: list[str] | None = None
    phone_region: str | None = None
    entity: EntityMap | None = None
    entities: list[EntityMap] | None = Field(None, min_length=1, description="Several nodes from each row.")
    link: LinkMap | None = None

    @model_validator(mode="after")
    def _one_target(self) -> SourceMap:
        if sum(x is not None for x in (self.entity, self.entities, self.link)) != 1:
            raise ValueError("give exactly one of 'entity', 'entities' or 'link'")
        return self

    @property
    def entity_maps(self) -> list[EntityMap]:
        """Every entity this source makes from a row (one for `entity`, several for `entities`)."""
        return [self.entity] if self.entity is not None else list(self.entities or [])

    def matches(self, relative: str) -> bool:
        """Whether this source covers the file at `relative` (a path relative to what is ingested).

        `orders.csv` matches only at the top level; `*.csv` matches at any depth (`*` spans '/').
        """
        return fnmatch.fnmatchcase(relative, self.file)


class MappingFile(_Strict):
    """The whole mapping document."""

    version: Literal[1] = 1
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,80}$")
    description: str = ""
    null_values: list[str] = Field(default_factory=lambda: [""])
    phone_region: str | None = None
    sources: list[SourceMap] = Field(min_length=1)

    def source_for(self, relative: str) -> SourceMap | None:
        """The first source whose glob covers this file."""
        return next((s for s in self.sources if s.matches(relative)), None)

    def sources_for(self, relative: str) -> list[SourceMap]:
        """Every source whose glob covers this file, in mapping order: all of them apply to it."""
        return [s for s in self.sources if s.matches(relative)]


def _line_index(text: str) -> dict[tuple[Any, ...], int]:
    """Map each YAML path (keys and list indexes) to its 1-based line, for error messages."""
    index: dict[tuple[Any, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        index[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                index[path + (key.value,)] = key.start_mark.line + 1
                walk(value, path + (key.value,))
        elif isinstance(node, yaml.SequenceNode):
            for number, item in enumerate(node.value):
                walk(item, path + (number,))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return index


def _line_of(index: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int:
    aliases = {"cls": "class", "from_": "from"}
    path = tuple(aliases.get(p, p) if isinstance(p, str) else p for p in path)
    while path and path not in index:
        path = path[:-1]
    return index.get(path, 1)


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Checker:
    """Checks a parsed mapping against the ontology, collecting every error with its line."""

    def __init__(self, ontology: Ontology, where: str, index: dict[tuple[Any, ...], int]) -> None:
        self.ontology, self.where, self.index = ontology, where, index
        self.errors: list[str] = []

    def fail(self, path: tuple[Any, ...], message: str) -> None:
        self.errors.append(f"{self.where} line {_line_of(self.index, path)} ({_dotted(path)}): {message}")

    def cls(self, name: str, path: tuple[Any, ...]) -> bool:
        if name not in self.ontology.classes:
            self.fail(path, f"unknown class {name!r}; known: {', '.join(sorted(self.ontology.classes))}")
            return False
        return True

    def properties(self, specs: dict[str, PropertySpec], fields: dict[str, FieldSpec], owner: str,
                   path: tuple[Any, ...]) -> None:
        for name in fields:
            if name == "uid":
                self.fail(path + (name,), "uid is set by the 'uid' template, not as a property")
            elif name not in specs:
                self.fail(path + (name,), f"{name!r} is not a property of {owner}; known: "
                                          f"{', '.join(sorted(n for n in specs if n != 'uid')) or 'none'}")

    def relationship(self, rel_type: str, start: str, end: str, fields: dict[str, FieldSpec],
                     path: tuple[Any, ...]) -> None:
        spec = self.ontology.relationships.get(rel_type)
        if spec is None:
            self.fail(path + ("type",), f"unknown relationship type {rel_type!r}; known: "
                                        f"{', '.join(sorted(self.ontology.relationships))}")
            return
        if start not in spec.domain or end not in spec.range:
            self.fail(path + ("type",), f"{start} -[{rel_type}]-> {end} is not allowed by the ontology "
                                        f"(from {', '.join(sorted(spec.domain))} to {', '.join(sorted(spec.range))})")
        self.properties(spec.edge_properties, fields, f"relationship {rel_type}", path + ("properties",))

    def check(self, mapping: MappingFile) -> None:
        for number, source in enumerate(mapping.sources):
            base: tuple[Any, ...] = ("sources", number)
            entity_paths = ([(source.entity, base + ("entity",))] if source.entity is not None else
                            [(e, base + ("entities", n)) for n, e in enumerate(source.entities or [])])
            for entity, here in entity_paths:
                if self.cls(entity.cls, here + ("class",)):
                    self.properties(self.ontology.classes[entity.cls].properties, entity.properties, entity.cls,
                                    here + ("properties",))
                for rel_no, rel in enumerate(entity.relationships):
                    rel_path = here + ("relationships", rel_no)
                    end_key = "to" if rel.to is not None else "from"
                    if self.cls(rel.other.cls, rel_path + (end_key, "class")) and entity.cls in self.ontology.classes:
                        start, end = (entity.cls, rel.other.cls) if rel.to else (rel.other.cls, entity.cls)
                        self.relationship(rel.type, start, end, rel.properties, rel_path)
            if source.link is not None:
                link, here = source.link, base + ("link",)
                ok = self.cls(link.from_.cls, here + ("from", "class")) & self.cls(link.to.cls, here + ("to", "class"))
                if ok:
                    self.relationship(link.type, link.from_.cls, link.to.cls, link.properties, here)


def parse_mapping(text: str, where: str, ontology: Ontology) -> MappingFile:
    """Parse and check mapping YAML; MappingError lists every mistake with its line."""
    try:
        data = yaml.safe_load(text)
        index = _line_index(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise MappingError(f"{where}: a mapping must be a YAML mapping with 'name' and 'sources'")
    try:
        mapping = MappingFile.model_validate(data)
    except ValidationError as exc:
        lines = [f"{where} line {_line_of(index, tuple(e['loc']))} ({_dotted(tuple(e['loc']))}): {e['msg']}"
                 for e in exc.errors()]
        raise MappingError("; ".join(lines)) from None
    checker = _Checker(ontology, where, index)
    checker.check(mapping)
    if checker.errors:
        raise MappingError("; ".join(checker.errors))
    return mapping


def load_mapping(name_or_path: str | Path, ontology: Ontology) -> MappingFile:
    """A mapping by file path, or by the name of one shipped in `ingest/mappings/`."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = MAPPINGS_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        shipped = ", ".join(shipped_mappings())
        raise MappingError(f"no mapping file {str(name_or_path)!r} (shipped mappings: {shipped})")
    return parse_mapping(path.read_text(encoding="utf-8"), path.name, ontology)


def shipped_mappings() -> list[str]:
    """Names of the mappings that come with kcrm."""
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))
