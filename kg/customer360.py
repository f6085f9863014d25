"""Customer 360: everything an agent needs about one customer, read in a single Cypher round trip."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from kcrm.errors import EntityNotFound
from kcrm.kg.connection import Graph
from kcrm.kg.mining.writeback import SOURCE as MINED_SOURCE
from kcrm.ontology.model import load_ontology

log = logging.getLogger(__name__)

_O = load_ontology()
CUSTOMER, SEGMENT, TXN, PRODUCT, CASE, TOPIC, EMPLOYEE, POLICY, RULE, CATEGORY = (
    _O.class_spec(n).name for n in ("Customer", "Segment", "Transaction", "Product", "SupportCase", "Topic",
                                    "Employee", "Policy", "IndustryRule", "ProductCategory"))
IN_SEGMENT, PLACED, CONTAINS, PURCHASED, RAISED, ABOUT_PRODUCT, HAS_TOPIC, RESOLVED_BY = (
    _O.relationship(t).type for t in ("IN_SEGMENT", "PLACED", "CONTAINS", "PURCHASED", "RAISED", "ABOUT_PRODUCT",
                                      "HAS_TOPIC", "RESOLVED_BY"))
OWNS, HAS_SKILL, GOVERNED_BY, APPLIES_TO, IN_CATEGORY, BROADER = (
    _O.relationship(t).type for t in ("OWNS", "HAS_SKILL", "GOVERNED_BY", "APPLIES_TO", "IN_CATEGORY", "BROADER"))
DONE_STATUSES = ["resolved", "closed"]

_CASE_FIELDS = (f"k{{.uid, .title, .status, .priority, .openedAt, .closedAt, "
                f"product: COLLECT {{ MATCH (k)-[:{ABOUT_PRODUCT}]->(p:{PRODUCT}) RETURN p.name }}[0], "
                f"topic: COLLECT {{ MATCH (k)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN t.uid }}[0], "
                f"resolvedBy: COLLECT {{ MATCH (k)-[:{RESOLVED_BY}]->(e:{EMPLOYEE}) RETURN e.name }}[0]}}")

CUSTOMER_360_QUERY = f"""
MATCH (c:{CUSTOMER} {{uid: $uid}})
CALL (c) {{ OPTIONAL MATCH (c)-[m:{IN_SEGMENT}]->(s:{SEGMENT}) WHERE coalesce(m.source, '') <> $mined
           RETURN collect(s{{.uid, .name, .description}})[0] AS segment }}
CALL (c) {{ OPTIONAL MATCH (c)-[m:{IN_SEGMENT}]->(s:{SEGMENT}) WHERE m.source = $mined
           RETURN collect(s{{.uid, .name, .nameZh, .description, .descriptionZh, computedAt: m.computedAt}})[0]
                  AS minedSegment }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{PLACED}]->(t:{TXN})
           RETURN {{orders: count(t), total: sum(t.total), first: min(t.orderedAt), last: max(t.orderedAt),
                   currencies: collect(DISTINCT t.currency)}} AS transactions }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{PLACED}]->(:{TXN})-[l:{CONTAINS}]->(p:{PRODUCT})
           WITH p, sum(l.quantity * l.unitPrice) AS spend, sum(l.quantity) AS quantity
           ORDER BY spend DESC LIMIT $top
           RETURN collect(p{{.uid, .name, .sku, spend: spend, quantity: quantity}}) AS topProducts }}
CALL (c) {{ OPTIONAL MATCH (c)-[r:{PURCHASED}]->(p:{PRODUCT})
           WITH p, r ORDER BY r.lastPurchase DESC
           RETURN collect(p{{.uid, .name, .sku, quantity: r.quantity, firstPurchase: r.firstPurchase,
                            lastPurchase: r.lastPurchase}}) AS products }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{RAISED}]->(k:{CASE})
           RETURN count(CASE WHEN k.status IN $done THEN 1 END) AS closedCount,
                  count(CASE WHEN NOT k.status IN $done THEN 1 END) AS openCount }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{RAISED}]->(k:{CASE}) WHERE NOT k.status IN $done
           WITH k ORDER BY k.openedAt DESC LIMIT $cases
           RETURN collect({_CASE_FIELDS}) AS openCases }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{RAISED}]->(k:{CASE}) WHERE k.status IN $done
           WITH k ORDER BY k.openedAt DESC LIMIT $cases
           RETURN collect({_CASE_FIELDS}) AS closedCases }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{RAISED}]->(k:{CASE})-[:{HAS_TOPIC}]->(t:{TOPIC})
           WITH t, max(k.openedAt) AS last ORDER BY last DESC LIMIT $topics
           RETURN collect(t.uid) AS recentTopics }}
CALL (c) {{ OPTIONAL MATCH (e:{EMPLOYEE})-[:{OWNS}]->(c)
           WITH e ORDER BY e.uid RETURN collect(e{{.uid, .name, .team, .jobTitle, .email}}) AS accountTeam }}
CALL (c, recentTopics) {{
           OPTIONAL MATCH (e:{EMPLOYEE})-[s:{HAS_SKILL}]->(t:{TOPIC})
           WHERE t.uid IN recentTopics AND (c.language IS NULL OR c.language IN e.languages)
           WITH e, sum(s.level) AS strength, collect(t.uid) AS topics ORDER BY strength DESC, e.uid LIMIT $experts
           RETURN collect(e{{.uid, .name, .team, strength: strength, topics: topics}}) AS experts }}
OPTIONAL CALL (c) {{
           MATCH (c)-[:{GOVERNED_BY}]->(r) WHERE r:{POLICY} OR r:{RULE}
           RETURN r, '{GOVERNED_BY}' AS via
           UNION
           MATCH (c)-[:{IN_SEGMENT}]->(s:{SEGMENT})<-[:{APPLIES_TO}]-(r)
           RETURN r, '{APPLIES_TO} ' + s.uid AS via
           UNION
           MATCH (c)-[:{PURCHASED}]->(p:{PRODUCT})<-[:{APPLIES_TO}]-(r)
           RETURN r, '{APPLIES_TO} ' + p.uid AS via
           UNION
           MATCH (c)-[:{PURCHASED}]->(:{PRODUCT})-[:{IN_CATEGORY}]->(:{CATEGORY})-[:{BROADER}*0..3]->(g:{CATEGORY})
                 <-[:{APPLIES_TO}]-(r)
           RETURN r, '{APPLIES_TO} ' + g.uid AS via
}}
WITH c, segment, minedSegment, transactions, topProducts, products, closedCount, openCount, openCases, closedCases,
     recentTopics, accountTeam, experts,
     collect(CASE WHEN r IS NOT NULL THEN {{uid: r.uid, type: labels(r)[0], title: r.title, via: via}} END) AS rules
RETURN c{{.*}} AS profile, segment, minedSegment, transactions, topProducts, products, closedCount, openCount, openCases,
       closedCases, recentTopics, accountTeam, experts, rules
"""


@dataclass
class Customer360:
    """One customer seen from every side; lists are capped, counts are not."""

    uid: str
    profile: dict[str, Any]
    segment: dict[str, Any] | None
    transactions: dict[str, Any]
    top_products: list[dict[str, Any]]
    products: list[dict[str, Any]]
    open_cases: list[dict[str, Any]]
    closed_cases: list[dict[str, Any]]
    case_counts: dict[str, int]
    rules: list[dict[str, Any]]
    account_team: list[dict[str, Any]]
    recent_topics: list[str]
    experts: list[dict[str, Any]] = field(default_factory=list)
    mined_segment: dict[str, Any] | None = None


_HIDDEN = ("contentHash", "sourceRecord", "ingestedAt", "updatedAt")


def merge_rules(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per policy or rule, with every way it applies listed under `via`."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = merged.setdefault(row["uid"], {**row, "via": []})
        if row["via"] not in entry["via"]:
            entry["via"].append(row["via"])
    return sorted(merged.values(), key=lambda r: (r["type"], r["uid"]))


def customer_360(graph: Graph, uid: str, cases: int = 10, top: int = 5, experts: int = 5) -> Customer360:
    """The 360 view of customer `uid`; EntityNotFound when the graph has no such customer."""
    rows = graph.read(CUSTOMER_360_QUERY, uid=uid, mined=MINED_SOURCE, done=DONE_STATUSES, cases=cases, top=top, experts=experts,
                      topics=3)
    if not rows:
        raise EntityNotFound(f"no customer with uid {uid!r} in the graph")
    r = rows[0]
    tx = r["transactions"] or {}
    tx["total"] = round(tx.get("total") or 0.0, 2)
    return Customer360(
        uid=uid, profile={k: v for k, v in r["profile"].items() if k not in _HIDDEN}, segment=r["segment"],
        transactions=tx, top_products=r["topProducts"], products=r["products"], open_cases=r["openCases"],
        closed_cases=r["closedCases"], case_counts={"open": r["openCount"], "closed": r["closedCount"]},
        rules=merge_rules(r["rules"]), account_team=r["accountTeam"], recent_topics=r["recentTopics"],
        experts=r["experts"], mined_segment=r["minedSegment"])
