"""Federated entity hits: customers, products and employees found by name or alias in the graph.

Content search ranks cases, documents, policies and rules from the indexes; people and things
live in the graph. A query's words are matched (case-insensitive containment) against each
entity's name, Chinese name, SKU and e-mail; an exact match ranks above a prefix, which ranks
above a match inside. Labels come from the ontology, values are parameters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kcrm.kg.connection import Graph
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import load_ontology

log = logging.getLogger(__name__)

ENTITY_CLASSES = ("Customer", "Product", "Employee")
NAME_PROPERTIES = ("name", "nameZh", "sku", "email")
MIN_QUERY = 2

_CYPHER = """
MATCH (n:{label})
WITH n, [p IN $props WHERE n[p] IS NOT NULL | toLower(toString(n[p]))] AS names
WHERE any(x IN names WHERE x CONTAINS $q) AND %s
WITH n, CASE WHEN $q IN names THEN 1.0 WHEN any(x IN names WHERE x STARTS WITH $q) THEN 0.8 ELSE 0.5 END AS score
ORDER BY score DESC, n.name, n.uid
WITH count(*) AS total, collect({{uid: n.uid, name: n.name, nameZh: n.nameZh, score: score}})[..$limit] AS top
RETURN total, top
""" % visible("n").replace("{", "{{").replace("}", "}}")


@dataclass(frozen=True)
class EntityHit:
    """One entity whose name or alias contains the query."""

    uid: str
    type: str
    name: str
    name_zh: str | None
    score: float


@dataclass
class EntityResults:
    """The best entity hits across types, and how many matched of each type."""

    hits: list[EntityHit] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def find_entities(graph: Graph, query: str, limit: int = 10, groups: list[str] | None = None) -> EntityResults:
    """Customers, products and employees named like `query` (at most `limit`), best first.

    Only entities a caller seeing `groups` may see are listed and counted (None: all).
    """
    text = " ".join(query.split()).lower()
    results = EntityResults(counts={name: 0 for name in ENTITY_CLASSES})
    if len(text) < MIN_QUERY or limit < 1:
        return results
    ontology = load_ontology()
    props = [p for p in NAME_PROPERTIES if p in ontology.datatype_properties]
    found: list[EntityHit] = []
    for name in ENTITY_CLASSES:
        label = ontology.class_spec(name).name  # OntologyError for a label the ontology lacks
        rows = graph.read(_CYPHER.format(label=f"`{label}`"), q=text, props=props, limit=limit,
                          groups=query_groups(groups))
        if not rows:
            continue
        results.counts[name] = int(rows[0]["total"])
        found.extend(EntityHit(row["uid"], name, row["name"] or "", row.get("nameZh"), float(row["score"]))
                     for row in rows[0]["top"])
    found.sort(key=lambda h: (-h.score, h.name, h.uid))
    results.hits = found[:limit]
    log.debug("entities for %r: %s", text, results.counts)
    return results
