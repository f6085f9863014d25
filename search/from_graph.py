"""Read the searchable items out of Neo4j: the graph is the system of record, indexes derive.

Each item carries the text to embed plus graph facts (product, customer, who resolved it) that
hits show without another round trip: only facts of neighbours at least as visible as the item
(`neighbour_facts`), since search trims by the item's own access groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from kcrm.kg.connection import Graph
from kcrm.search.semantic import IndexItem
from kcrm.search.trimming import GROUPS_KEY, is_public, item_groups


def _one(pattern: str, fields: str) -> str:
    """A subquery for one neighbour's fields with its access groups (`kcrm.search.from_graph.neighbour_facts`)."""
    return f"COLLECT {{ MATCH {pattern} RETURN n{{{fields}, .accessGroups}} LIMIT 1 }}[0]"


CASES = f"""
MATCH (c:SupportCase) WHERE $uids IS NULL OR c.uid IN $uids
RETURN c.uid AS uid, c.title AS title, c.language AS language,
       c.description + CASE WHEN c.resolution IS NULL THEN '' ELSE '\n\n' + c.resolution END AS text,
       {{accessGroups: c.accessGroups, status: c.status, priority: c.priority, openedAt: c.openedAt, closedAt: c.closedAt,
        resolution: c.resolution, updatedAt: c.updatedAt}} AS meta,
       {{product: {_one("(c)-[:ABOUT_PRODUCT]->(n:Product)", ".name")},
        customer: {_one("(n:Customer)-[:RAISED]->(c)", ".name, .uid, .valueTier, .churnRiskLevel")},
        resolvedBy: {_one("(c)-[:RESOLVED_BY]->(n:Employee)", ".name")},
        topic: {_one("(c)-[:HAS_TOPIC]->(n:Topic)", ".name")},
        category: {_one("(c)-[:ABOUT_PRODUCT]->(:Product)-[:IN_CATEGORY]->(n:ProductCategory)", ".name")}}}
       AS neighbours
ORDER BY uid
"""

DOCUMENTS = f"""
MATCH (d:Document) WHERE $uids IS NULL OR d.uid IN $uids
RETURN d.uid AS uid, d.title AS title, d.language AS language, d.text AS text,
       {{accessGroups: d.accessGroups, docType: d.docType, publishedAt: d.publishedAt, updatedAt: d.updatedAt}} AS meta,
       {{product: {_one("(d)-[:ABOUT_PRODUCT]->(n:Product)", ".name")},
        author: {_one("(n:Employee)-[:AUTHORED]->(d)", ".name")},
        topic: {_one("(d)-[:HAS_TOPIC]->(n:Topic)", ".name")},
        category: {_one("(d)-[:ABOUT_PRODUCT]->(:Product)-[:IN_CATEGORY]->(n:ProductCategory)", ".name")}}}
       AS neighbours
ORDER BY uid
"""

# neighbour -> {meta key: the neighbour's property}: the facts an item copies from its neighbours.
NEIGHBOUR_FACTS = {
    "product": {"product": "name"},
    "customer": {"customer": "name", "customerUid": "uid", "tier": "valueTier", "churn_risk": "churnRiskLevel"},
    "resolvedBy": {"resolvedBy": "name"},
    "author": {"author": "name"},
    "topic": {"topic": "name"},
    "category": {"category": "name"},
}


def neighbour_facts(item: frozenset[str], neighbours: dict[str, Any] | None) -> dict[str, Any]:
    """The facts an item may carry from its neighbours: only those of a neighbour everyone who may see
    the item may also see.

    Why: hits, facets and the `customer=` filter are computed from these copies with the item's
    groups alone, so a public case raised by a confidential customer would otherwise name that
    customer to every caller (issue 13, finding 9). A neighbour passes when it is public, or the
    item is restricted and every group of the item is one of the neighbour's (whoever shares a
    group with the item then shares one with the neighbour). The price: such a fact is left off
    for everyone, even a caller who could see both; the 360 and /v1/entities still show it to them.
    """
    facts: dict[str, Any] = {}
    for name, fields in NEIGHBOUR_FACTS.items():
        node = (neighbours or {}).get(name)
        if not node:
            continue
        groups = item_groups({GROUPS_KEY: node.get(GROUPS_KEY)})
        if not (is_public(groups) or (not is_public(item) and item <= groups)):
            continue
        facts.update({key: node.get(prop) for key, prop in fields.items()})
    return facts


POLICIES = """
MATCH (p:Policy) WHERE $uids IS NULL OR p.uid IN $uids
RETURN p.uid AS uid, p.title AS title, p.language AS language, p.text AS text,
       {accessGroups: p.accessGroups, effectiveFrom: p.effectiveFrom, updatedAt: p.updatedAt} AS meta
ORDER BY uid
"""

INDUSTRY_RULES = """
MATCH (r:IndustryRule) WHERE $uids IS NULL OR r.uid IN $uids
RETURN r.uid AS uid, r.title AS title, r.language AS language, r.text AS text,
       {accessGroups: r.accessGroups, jurisdiction: r.jurisdiction, industry: r.industry, updatedAt: r.updatedAt} AS meta
ORDER BY uid
"""

SEARCHABLE = {
    "SupportCase": CASES,
    "Document": DOCUMENTS,
    "Policy": POLICIES,
    "IndustryRule": INDUSTRY_RULES,
}


VERSIONS = """
MATCH (n) WHERE n:SupportCase OR n:Document OR n:Policy OR n:IndustryRule
RETURN n.uid AS uid, n.updatedAt AS version
"""


def searchable_items(graph: Graph, uids: Iterable[str] | None = None) -> Iterator[IndexItem]:
    """Every case, document, policy and industry rule in the graph as an item to index
    (only those with these uids, when given: an incremental update re-reads what changed).

    Meta carries the item's `accessGroups`, so search can trim by them (`kcrm.search.trimming`).
    """
    wanted = None if uids is None else sorted(set(uids))
    if wanted is not None and not wanted:
        return
    for item_type, cypher in SEARCHABLE.items():
        for row in graph.read(cypher, uids=wanted):
            meta = dict(row["meta"] or {})
            meta.update(neighbour_facts(item_groups(meta), row.get("neighbours")))
            meta = {key: value for key, value in meta.items() if value is not None}
            yield IndexItem(
                uid=row["uid"], type=item_type, title=row["title"] or "", text=row["text"] or "",
                language=row["language"] or "", meta=meta,
            )


def item_versions(graph: Graph) -> dict[str, str]:
    """uid -> `updatedAt` of every searchable node: what an incremental update compares against."""
    return {row["uid"]: str(row["version"] or "") for row in graph.read(VERSIONS) if row["uid"] is not None}


def graph_watermark(graph: Graph) -> str:
    """The newest `updatedAt` among searchable nodes: what the index is known to include."""
    rows = graph.read(
        "MATCH (n) WHERE n:SupportCase OR n:Document OR n:Policy OR n:IndustryRule "
        "RETURN max(n.updatedAt) AS mark, count(n) AS n"
    )
    return f"{rows[0]['mark'] or ''}|{rows[0]['n']}"
