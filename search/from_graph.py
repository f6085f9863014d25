"""Read the searchable items out of Neo4j: the graph is the system of record, indexes derive.

Each item carries the text to embed plus graph facts (product, customer, who resolved it) that
hits show without another round trip.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kcrm.kg.connection import Graph
from kcrm.search.semantic import IndexItem

CASES = """
MATCH (c:SupportCase) WHERE $uids IS NULL OR c.uid IN $uids
RETURN c.uid AS uid, c.title AS title, c.language AS language,
       c.description + CASE WHEN c.resolution IS NULL THEN '' ELSE '\n\n' + c.resolution END AS text,
       {accessGroups: c.accessGroups, status: c.status, priority: c.priority, openedAt: c.openedAt, closedAt: c.closedAt,
        resolution: c.resolution, updatedAt: c.updatedAt,
        product: COLLECT { MATCH (c)-[:ABOUT_PRODUCT]->(p:Product) RETURN p.name LIMIT 1 }[0],
        customer: COLLECT { MATCH (cu:Customer)-[:RAISED]->(c) RETURN cu.name LIMIT 1 }[0],
        customerUid: COLLECT { MATCH (cu:Customer)-[:RAISED]->(c) RETURN cu.uid LIMIT 1 }[0],
        tier: COLLECT { MATCH (cu:Customer)-[:RAISED]->(c) RETURN cu.valueTier LIMIT 1 }[0],
        churn_risk: COLLECT { MATCH (cu:Customer)-[:RAISED]->(c) RETURN cu.churnRiskLevel LIMIT 1 }[0],
        resolvedBy: COLLECT { MATCH (c)-[:RESOLVED_BY]->(e:Employee) RETURN e.name LIMIT 1 }[0],
        topic: COLLECT { MATCH (c)-[:HAS_TOPIC]->(t:Topic) RETURN t.name LIMIT 1 }[0],
        category: COLLECT { MATCH (c)-[:ABOUT_PRODUCT]->(:Product)-[:IN_CATEGORY]->(pc:ProductCategory)
                            RETURN pc.name LIMIT 1 }[0]} AS meta
ORDER BY uid
"""

DOCUMENTS = """
MATCH (d:Document) WHERE $uids IS NULL OR d.uid IN $uids
RETURN d.uid AS uid, d.title AS title, d.language AS language, d.text AS text,
       {accessGroups: d.accessGroups, docType: d.docType, publishedAt: d.publishedAt, updatedAt: d.updatedAt,
        product: COLLECT { MATCH (d)-[:ABOUT_PRODUCT]->(p:Product) RETURN p.name LIMIT 1 }[0],
        author: COLLECT { MATCH (e:Employee)-[:AUTHORED]->(d) RETURN e.name LIMIT 1 }[0],
        topic: COLLECT { MATCH (d)-[:HAS_TOPIC]->(t:Topic) RETURN t.name LIMIT 1 }[0],
        category: COLLECT { MATCH (d)-[:ABOUT_PRODUCT]->(:Product)-[:IN_CATEGORY]->(pc:ProductCategory)
                            RETURN pc.name LIMIT 1 }[0]} AS meta
ORDER BY uid
"""

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
            meta = {key: value for key, value in (row["meta"] or {}).items() if value is not None}
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
