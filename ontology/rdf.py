"""Graph nodes and relationships as RDF with the ontology's IRIs: one serializer for every export.

`kcrm export` (the whole graph or a part) and the subject access export both write through
here, so an export always reads back through kcrm's own RDF reader (`kcrm.ingest.native`) and
validates against `ontology/shapes.ttl`. A node is `data:<uid>` typed with its class
(`kcrm:Customer`), carrying `kcrm:uid` and its ontology properties as literals typed by the
property's range. A relationship is the triple `start kcrm:TYPE end`; when it carries
properties it is also reified (an `rdf:Statement` with its own IRI and the properties), because
plain RDF has no place for edge properties and RDF-star is not yet read by every tool.
Only the properties the class's shape declares are exported, plus provenance (`kcrm:source`,
`kcrm:sourceRecord`, `kcrm:ingestedAt`); content hashes and other bookkeeping are not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

from kcrm.ontology.model import KCRM, Ontology

DATA = Namespace("https://kcrm.dev/data/")
EDGE = Namespace("https://kcrm.dev/data/edge/")
FORMATS = {"turtle": "turtle", "jsonld": "json-ld"}
# Written by kcrm's loader on every node; not part of what a source or a person said.
INTERNAL_PROPERTIES = frozenset({"contentHash", "sourceKeys", "updatedAt"})
# Where a node came from: exported, but a re-import stamps its own (the import is the new source).
PROVENANCE = frozenset({"source", "sourceRecord", "ingestedAt"})


@dataclass(frozen=True)
class GraphNode:
    """One node as read from the graph: its class, uid and properties."""

    label: str
    uid: str
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GraphEdge:
    """One relationship as read from the graph: its ends (class, uid), type and properties."""

    type: str
    start_label: str
    start_uid: str
    end_label: str
    end_uid: str
    props: dict[str, Any] = field(default_factory=dict)


def node_iri(uid: str) -> URIRef:
    """The IRI of a graph node in RDF exports: the data namespace plus the escaped uid."""
    return DATA[quote(uid, safe="")]


def edge_iri(edge: GraphEdge) -> URIRef:
    """A stable IRI for a reified relationship (its ends and type identify it in Neo4j too)."""
    return EDGE[quote(f"{edge.start_uid}|{edge.type}|{edge.end_uid}", safe="")]


def literal(value: object, datatype: str) -> Literal:
    """A value as a literal typed by the property's range (strings stay plain)."""
    if datatype == "string" or not isinstance(value, (str, int, float, bool)):
        return Literal(str(value))
    return Literal(str(value).lower() if isinstance(value, bool) else str(value), datatype=XSD[datatype])


def _add_props(graph: Graph, subject: URIRef, props: dict[str, Any], ontology: Ontology,
               allowed: Iterable[str] | None = None) -> None:
    names = set(allowed) if allowed is not None else set(ontology.datatype_properties)
    for name, value in sorted(props.items()):
        if name in INTERNAL_PROPERTIES or name not in names or name == "uid" or value is None:
            continue
        datatype = ontology.datatype_properties[name].datatype
        for item in value if isinstance(value, list) else [value]:
            graph.add((subject, KCRM[name], literal(item, datatype)))


def to_rdf(ontology: Ontology, nodes: Iterable[GraphNode], edges: Iterable[GraphEdge] = ()) -> Graph:
    """Nodes and relationships as an RDF graph with the ontology's IRIs (see the module docstring)."""
    graph = Graph()
    graph.bind("kcrm", KCRM)
    graph.bind("data", DATA)
    for node in nodes:
        subject = node_iri(node.uid)
        graph.add((subject, RDF.type, KCRM[ontology.class_spec(node.label).name]))
        graph.add((subject, KCRM.uid, Literal(node.uid)))
        _add_props(graph, subject, node.props, ontology,
                   allowed=set(ontology.class_spec(node.label).properties) | PROVENANCE)
    for edge in edges:
        spec = ontology.relationship(edge.type)
        start, end = node_iri(edge.start_uid), node_iri(edge.end_uid)
        graph.add((start, KCRM[spec.type], end))
        props = {k: v for k, v in edge.props.items() if k in spec.edge_properties and v is not None}
        if props:
            statement = edge_iri(edge)
            graph.add((statement, RDF.type, RDF.Statement))
            graph.add((statement, RDF.subject, start))
            graph.add((statement, RDF.predicate, KCRM[spec.type]))
            graph.add((statement, RDF.object, end))
            _add_props(graph, statement, props, ontology, allowed=spec.edge_properties)
    return graph


def serialize(graph: Graph, fmt: str) -> str:
    """The graph as Turtle or JSON-LD text (`fmt`: 'turtle' or 'jsonld')."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown RDF format {fmt!r}; choose from {', '.join(FORMATS)}")
    return graph.serialize(format=FORMATS[fmt])
