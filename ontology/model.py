"""The ontology as Python objects: which classes, properties and relationships exist.

Everything that touches the graph asks this module what is allowed: the loader validates
records against it, the schema module generates constraints from it, and Cypher takes labels
and relationship types only from it (never from user input).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from kcrm.foundation.errors import OntologyError

KCRM = Namespace("https://kcrm.dev/ontology#")
SCHEMA = Namespace("https://schema.org/")
ONTOLOGY_DIR = Path(__file__).resolve().parent
ONTOLOGY_FILE = ONTOLOGY_DIR / "kcrm.ttl"
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"
TAXONOMY_FILE = ONTOLOGY_DIR / "taxonomy.ttl"

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class PropertySpec:
    """One datatype property as a class (or relationship) may carry it."""

    name: str
    datatype: str
    label_en: str = ""
    label_zh: str = ""
    required: bool = False
    many: bool = True
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_inclusive: float | None = None


@dataclass(frozen=True)
class ClassSpec:
    """A class of the ontology; its name is the Neo4j label."""

    name: str
    label_en: str
    label_zh: str
    comment: str
    properties: dict[str, PropertySpec] = field(default_factory=dict)


@dataclass(frozen=True)
class RelationshipSpec:
    """An object property; its name is the Neo4j relationship type."""

    type: str
    label_en: str
    label_zh: str
    domain: frozenset[str]
    range: frozenset[str]
    edge_properties: dict[str, PropertySpec] = field(default_factory=dict)


@dataclass(frozen=True)
class Ontology:
    """The loaded ontology: the whitelist of labels, types and properties."""

    classes: dict[str, ClassSpec]
    relationships: dict[str, RelationshipSpec]
    datatype_properties: dict[str, PropertySpec]
    indexed_properties: frozenset[str]
    version: str

    def class_spec(self, name: str) -> ClassSpec:
        """The class called `name`, or OntologyError (the one way labels enter Cypher)."""
        spec = self.classes.get(name)
        if spec is None or not _NAME.match(name):
            raise OntologyError(f"unknown class {name!r}; known: {', '.join(sorted(self.classes))}")
        return spec

    def relationship(self, rel_type: str) -> RelationshipSpec:
        """The relationship type called `rel_type`, or OntologyError."""
        spec = self.relationships.get(rel_type)
        if spec is None or not _NAME.match(rel_type):
            known = ", ".join(sorted(self.relationships))
            raise OntologyError(f"unknown relationship type {rel_type!r}; known: {known}")
        return spec


def _labels(graph: Graph, subject: Node) -> tuple[str, str]:
    en = zh = ""
    for label in graph.objects(subject, RDFS.label):
        if isinstance(label, Literal) and label.language == "en":
            en = str(label)
        elif isinstance(label, Literal) and label.language == "zh":
            zh = str(label)
    return en, zh


def _local(uri: Node | None) -> str:
    return str(uri).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _datatype_properties(graph: Graph) -> dict[str, PropertySpec]:
    specs = {}
    for prop in graph.subjects(RDF.type, OWL.DatatypeProperty):
        rng = graph.value(prop, RDFS.range) or XSD.string
        en, zh = _labels(graph, prop)
        specs[_local(prop)] = PropertySpec(name=_local(prop), datatype=_local(rng), label_en=en, label_zh=zh)
    return specs


def _shape_property(graph: Graph, node, base: PropertySpec) -> PropertySpec:
    def value(pred):
        return graph.value(node, pred)

    allowed = None
    in_list = value(SH["in"])
    if in_list is not None:
        allowed = tuple(str(item) for item in Collection(graph, in_list))
    max_count = value(SH.maxCount)
    datatype = value(SH.datatype)
    return PropertySpec(
        name=base.name,
        datatype=_local(datatype) if datatype is not None else base.datatype,
        label_en=base.label_en,
        label_zh=base.label_zh,
        required=int(value(SH.minCount) or 0) >= 1,
        many=max_count is None or int(max_count) > 1,
        allowed=allowed,
        pattern=str(value(SH.pattern)) if value(SH.pattern) is not None else None,
        min_length=int(value(SH.minLength)) if value(SH.minLength) is not None else None,
        max_length=int(value(SH.maxLength)) if value(SH.maxLength) is not None else None,
        min_inclusive=float(value(SH.minInclusive)) if value(SH.minInclusive) is not None else None,
    )


def _class_properties(shapes: Graph, cls: Node, datatype_props: dict[str, PropertySpec]) -> dict[str, PropertySpec]:
    props: dict[str, PropertySpec] = {}
    for shape in shapes.subjects(SH.targetClass, cls):
        for node in shapes.objects(shape, SH.property):
            path = shapes.value(node, SH.path)
            name = _local(path)
            if name not in datatype_props:
                raise OntologyError(f"shape of {_local(cls)} uses {name!r}, which the ontology does not declare")
            props[name] = _shape_property(shapes, node, datatype_props[name])
    return props


def _relationships(graph: Graph, datatype_props: dict[str, PropertySpec]) -> dict[str, RelationshipSpec]:
    rels = {}
    for prop in graph.subjects(RDF.type, OWL.ObjectProperty):
        en, zh = _labels(graph, prop)
        edge_props = {
            _local(p): replace(datatype_props[_local(p)], many=False)
            for p in graph.objects(prop, KCRM.edgeProperty)
        }
        rels[_local(prop)] = RelationshipSpec(
            type=_local(prop),
            label_en=en,
            label_zh=zh,
            domain=frozenset(_local(c) for c in graph.objects(prop, SCHEMA.domainIncludes)),
            range=frozenset(_local(c) for c in graph.objects(prop, SCHEMA.rangeIncludes)),
            edge_properties=edge_props,
        )
    return rels


def parse_ontology(ontology_file: Path = ONTOLOGY_FILE, shapes_file: Path = SHAPES_FILE) -> Ontology:
    """Read the OWL file and the SHACL shapes into an `Ontology`."""
    graph = Graph().parse(ontology_file, format="turtle")
    shapes = Graph().parse(shapes_file, format="turtle")
    datatype_props = _datatype_properties(graph)
    classes = {}
    for cls in graph.subjects(RDF.type, OWL.Class):
        en, zh = _labels(graph, cls)
        comment = str(graph.value(cls, RDFS.comment) or "")
        classes[_local(cls)] = ClassSpec(
            name=_local(cls), label_en=en, label_zh=zh, comment=comment,
            properties=_class_properties(shapes, cls, datatype_props),
        )
    indexed = frozenset(_local(p) for p in graph.subjects(KCRM.indexed, Literal(True)))
    version = str(graph.value(URIRef("https://kcrm.dev/ontology"), OWL.versionInfo) or "0")
    return Ontology(
        classes=classes,
        relationships=_relationships(graph, datatype_props),
        datatype_properties=datatype_props,
        indexed_properties=indexed,
        version=version,
    )


@lru_cache(maxsize=1)
def load_ontology() -> Ontology:
    """The shipped ontology, parsed once per process."""
    return parse_ontology()
