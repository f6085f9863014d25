"""Reading one customer's mined knowledge back from the graph (for the API and the customer 360)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kcrm.foundation.errors import EntityNotFound
from kcrm.kg.connection import Graph
from kcrm.kg.mining.writeback import CUSTOMER_PROPERTIES, SOURCE, graph_names
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import Ontology

# Trimmed by the caller's $groups (null: none): an invisible customer is no row (404, as if absent).
READ_INSIGHTS = """
MATCH (c:`{customer}` {{uid: $uid}}) WHERE %(c)s
OPTIONAL MATCH (c)-[r:`{recommended}`]->(p:`{product}`) WHERE r.source = $source AND %(p)s
WITH c, r, p ORDER BY r.score DESC, r.lift DESC, p.uid
WITH c, collect(CASE WHEN p IS NULL THEN null ELSE {{
  product: p.uid, name: p.name, score: r.score, confidence: r.confidence, lift: r.lift, support: r.support,
  reason: r.reason, computedAt: r.computedAt}} END) AS recommendations
OPTIONAL MATCH (c)-[m:`{in_segment}`]->(s:`{segment}`) WHERE m.source = $source AND %(s)s
WITH c, recommendations, s ORDER BY s.uid
RETURN c {{.*}} AS customer, recommendations,
       collect(CASE WHEN s IS NULL THEN null ELSE s {{.uid, .name, .nameZh, .description, .descriptionZh,
         .memberCount, .computedAt, .source}} END) AS segments
""" % {"c": visible("c").replace("{", "{{").replace("}", "}}"), "p": visible("p").replace("{", "{{").replace("}", "}}"),
       "s": visible("s").replace("{", "{{").replace("}", "}}")}


@dataclass
class CustomerInsights:
    """What mining knows about one customer; `computed_at` is None when `kcrm mine` has not covered it."""

    uid: str
    name: str
    computed_at: str | None
    computed_by: str | None
    properties: dict[str, Any] = field(default_factory=dict)
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)


def read_insights(graph: Graph, ontology: Ontology, uid: str, groups: list[str] | None = None) -> CustomerInsights:
    """The mined facts of customer `uid`, or EntityNotFound when no customer has that uid or the
    caller (seeing `groups`; None: everything) may not see it."""
    rows = graph.read(READ_INSIGHTS.format(**graph_names(ontology)), uid=uid, source=SOURCE,
                      groups=query_groups(groups))
    if not rows:
        raise EntityNotFound(f"no Customer with uid {uid!r} (customer uids look like CUS-0001)")
    customer = rows[0]["customer"]
    return CustomerInsights(
        uid=uid, name=customer.get("name") or uid, computed_at=customer.get("computedAt"),
        computed_by=customer.get("computedBy"),
        properties={key: customer.get(key) for key in CUSTOMER_PROPERTIES},
        recommendations=rows[0]["recommendations"], segments=rows[0]["segments"],
    )
