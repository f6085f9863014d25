"""Read the graph (or a part of it) for an RDF export: nodes by class and change date, and their edges.

`kcrm export` writes what this reads through `kcrm.ontology.rdf`. Labels come from the
ontology's whitelist only; the date filter is a parameter. A part (`--type`, `--since`) takes
the relationships that leave its nodes, so a re-import of the part links to nodes already in
the target graph (and reports the ones that are not).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kcrm.kg.connection import Graph
from kcrm.ontology.model import Ontology
from kcrm.ontology.rdf import GraphEdge, GraphNode

NODES = """
MATCH (n:`{label}`)
WHERE $since IS NULL OR coalesce(n.updatedAt, n.ingestedAt, '') >= $since
RETURN n.uid AS uid, properties(n) AS props ORDER BY n.uid
"""
EDGES = """
MATCH (a:`{label}`)-[r]->(b)
WHERE ($since IS NULL OR coalesce(a.updatedAt, a.ingestedAt, '') >= $since) AND a.uid IS NOT NULL
  AND b.uid IS NOT NULL AND type(r) IN $types
RETURN a.uid AS start, type(r) AS type, labels(b) AS endLabels, b.uid AS end, properties(r) AS props
ORDER BY start, type, end
"""


def export_nodes(graph: Graph, ontology: Ontology, classes: Iterable[str] | None = None,
                 since: str | None = None) -> Iterator[GraphNode]:
    """Every node of the named classes (all by default) changed on or after `since` (ISO date)."""
    for name in sorted(classes or ontology.classes):
        label = ontology.class_spec(name).name
        for row in graph.read(NODES.format(label=label), since=since):
            if row["uid"] is not None:
                yield GraphNode(label, row["uid"], row["props"])


def export_edges(graph: Graph, ontology: Ontology, classes: Iterable[str] | None = None,
                 since: str | None = None) -> Iterator[GraphEdge]:
    """The ontology's relationships that leave those nodes, with their properties."""
    types = sorted(ontology.relationships)
    for name in sorted(classes or ontology.classes):
        label = ontology.class_spec(name).name
        for row in graph.read(EDGES.format(label=label), since=since, types=types):
            end_label = next((lab for lab in row["endLabels"] if lab in ontology.classes), None)
            if end_label is not None:
                yield GraphEdge(row["type"], label, row["start"], end_label, row["end"], row["props"])
