"""Neo4j constraints and indexes generated from the ontology.

One uniqueness constraint on `uid` per class (the stable identity of docs/architecture.md) and a
range index for each property the ontology marks `kcrm:indexed` on the classes that carry it.
"""

from __future__ import annotations

import logging

from kcrm.kg.connection import Graph
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)


def schema_statements(ontology: Ontology) -> list[str]:
    """The idempotent DDL statements for the ontology (names and labels come only from it)."""
    statements = []
    for name in sorted(ontology.classes):
        label = ontology.class_spec(name).name
        statements.append(
            f"CREATE CONSTRAINT {label.lower()}_uid IF NOT EXISTS FOR (n:`{label}`) REQUIRE n.uid IS UNIQUE"
        )
        for prop in sorted(ontology.indexed_properties & set(ontology.classes[name].properties)):
            statements.append(
                f"CREATE INDEX {label.lower()}_{prop.lower()} IF NOT EXISTS FOR (n:`{label}`) ON (n.`{prop}`)"
            )
    return statements


def apply_schema(graph: Graph, ontology: Ontology) -> int:
    """Create the missing constraints and indexes and wait until they are online."""
    statements = schema_statements(ontology)
    for statement in statements:
        graph.write(statement)
    graph.write("CALL db.awaitIndexes(300)")
    log.info("schema applied: %d constraints and indexes", len(statements))
    return len(statements)
