"""Customer 360: everything an agent needs about one customer, read in a single Cypher round trip."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from kcrm.foundation.errors import EntityNotFound
from kcrm.kg.connection import Graph
from kcrm.kg.field_access import node_properties
from kcrm.kg.mining.writeback import SOURCE as MINED_SOURCE
from kcrm.kg.visibility import query_groups, visible
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
                f"product: COLLECT {{ MATCH (k)-[:{ABOUT_PRODUCT}]->(p:{PRODUCT}) WHERE {visible('p')} "
                f"RETURN p.name }}[0], "
                f"topic: COLLECT {{ MATCH (k)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN t.uid }}[0], "
                f"resolvedBy: COLLECT {{ MATCH (k)-[:{RESOLVED_BY}]->(e:{EMPLOYEE}) WHERE {visible('e')} "
                f"RETURN e.name }}[0]}}")

# Every node read is trimmed by `visible` ($groups null: no trimming): a customer the caller may not
# see is no row at all (404, as if absent); restricted orders and cases leave its lists and counts.
# PURCHASED summarises every order line, so when a trimmed caller may not see some of the
# customer's orders, its products are summarised from the order lines it may see instead.
CUSTOMER_360_QUERY = f"""
MATCH (c:{CUSTOMER} {{uid: $uid}}) WHERE {visible('c')}
CALL (c) {{ OPTIONAL MATCH (c)-[m:{IN_SEGMENT}]->(s:{SEGMENT}) WHERE coalesce(m.source, '') <> $mined AND {visible('s')}
           RETURN collect(s{{.uid, .name, .description}})[0] AS segment }}
CALL (c) {{ OPTIONAL MATCH (c)-[m:{IN_SEGMENT}]->(s:{SEGMENT}) WHERE m.source = $mined AND {visible('s')}
           RETURN collect(s{{.uid, .name, .nameZh, .description, .descriptionZh, computedAt: m.computedAt}})[0]
                  AS minedSegment }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{PLACED}]->(t:{TXN}) WHERE {visible('t')}
           RETURN {{orders: count(t), total: sum(t.total), first: min(t.orderedAt), last: max(t.orderedAt),
                   currencies: collect(DISTINCT t.currency)}} AS transactions }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{PLACED}]->(t:{TXN})-[l:{CONTAINS}]->(p:{PRODUCT}) WHERE {visible('t')} AND {visible('p')}
           WITH p, sum(l.quantity * l.unitPrice) AS spend, sum(l.quantity) AS quantity
           ORDER BY spend DESC LIMIT $top
           RETURN collect(p{{.uid, .name, .sku, spend: spend, quantity: quantity}}) AS topProducts }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{PLACED}]->(t:{TXN}) WHERE $groups IS NOT NULL AND NOT {visible('t')}
           RETURN count(t) AS hiddenOrders }}
OPTIONAL CALL (c, hiddenOrders) {{ WITH c WHERE hiddenOrders = 0
           OPTIONAL MATCH (c)-[r:{PURCHASED}]->(p:{PRODUCT}) WHERE {visible('p')}
           WITH p, r ORDER BY r.lastPurchase DESC
           RETURN collect(p{{.uid, .name, .sku, quantity: r.quantity, firstPurchase: r.firstPurchase,
                            lastPurchase: r.lastPurchase}}) AS purchased }}
OPTIONAL CALL (c, hiddenOrders) {{ WITH c WHERE hiddenOrders > 0
           OPTIONAL MATCH (c)-[:{PLACED}]->(t:{TXN})-[l:{CONTAINS}]->(p:{PRODUCT}) WHERE {visible('t')} AND {visible('p')}
           WITH p, sum(l.quantity) AS quantity, min(t.orderedAt) AS first, max(t.orderedAt) AS last
           ORDER BY last DESC
           RETURN collect(p{{.uid, .name, .sku, quantity: quantity, firstPurchase: first, lastPurchase: last}})
                  AS summarised }}
WITH *, coalesce(purchased, summarised, []) AS products
CALL (c) {{ OPTIONAL MATCH (c)-[:{RAISED}]->(k:{CASE}) WHERE {visible('k')}
           RETURN count(CASE WHEN k.status IN $done THEN 1 END) AS closedCount,
                  count(CASE WHEN NOT k.status IN $done THEN 1 END) AS openCount }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{RAISED}]->(k:{CASE}) WHERE NOT k.status IN $done AND {visible('k')}
           WITH k ORDER BY k.openedAt DESC LIMIT $cases
           RETURN collect({_CASE_FIELDS}) AS openCases }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{RAISED}]->(k:{CASE}) WHERE k.status IN $done AND {visible('k')}
           WITH k ORDER BY k.openedAt DESC LIMIT $cases
           RETURN collect({_CASE_FIELDS}) AS closedCases }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{RAISED}]->(k:{CASE})-[:{HAS_TOPIC}]->(t:{TOPIC}) WHERE {visible('k')}
           WITH t, max(k.openedAt) AS last ORDER BY last DESC LIMIT $topics
           RETURN collect(t.uid) AS recentTopics }}
CALL (c) {{ OPTIONAL MATCH (e:{EMPLOYEE})-[:{OWNS}]->(c) WHERE {visible('e')}
           WITH e ORDER BY e.uid RETURN collect(e{{.uid, .name, .team, .jobTitle, .email}}) AS accountTeam }}
CALL (c, recentTopics) {{
           OPTIONAL MATCH (e:{EMPLOYEE})-[s:{HAS_SKILL}]->(t:{TOPIC})
           WHERE t.uid IN recentTopics AND (c.language IS NULL OR c.language IN e.languages) AND {visible('e')}
           WITH e, sum(s.level) AS strength, collect(t.uid) AS topics ORDER BY strength DESC, e.uid LIMIT $experts
           RETURN collect(e{{.uid, .name, .team, strength: strength, topics: topics}}) AS experts }}
OPTIONAL CALL (c) {{
           MATCH (c)-[:{GOVERNED_BY}]->(r) WHERE (r:{POLICY} OR r:{RULE}) AND {visible('r')}
           RETURN r, '{GOVERNED_BY}' AS via
           UNION
           MATCH (c)-[:{IN_SEGMENT}]->(s:{SEGMENT})<-[:{APPLIES_TO}]-(r) WHERE {visible('r')} AND {visible('s')}
           RETURN r, '{APPLIES_TO} ' + s.uid AS via
           UNION
           MATCH (c)-[:{PURCHASED}]->(p:{PRODUCT})<-[:{APPLIES_TO}]-(r) WHERE {visible('r')} AND {visible('p')}
           RETURN r, '{APPLIES_TO} ' + p.uid AS via
           UNION
           MATCH (c)-[:{PURCHASED}]->(p:{PRODUCT})-[:{IN_CATEGORY}]->(:{CATEGORY})-[:{BROADER}*0..3]->(g:{CATEGORY})
                 <-[:{APPLIES_TO}]-(r)
           WHERE {visible('r')} AND {visible('p')}
           RETURN r, '{APPLIES_TO} ' + g.uid AS via
}}
WITH c, segment, minedSegment, transactions, topProducts, products, closedCount, openCount, openCases, closedCases,
     recentTopics, accountTeam, experts,
     collect(CASE WHEN r IS NOT NULL THEN {{uid: r.uid, type: labels(r)[0], title: r.title, via: via,
                                           jurisdiction: r.jurisdiction, language: r.language,
                                           topics: COLLECT {{ MATCH (r)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN t.uid }}}}
             END) AS rules
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


# Jurisdictions (IndustryRule.jurisdiction, canonical English or the Chinese name used on Chinese
# rules) -> the customer countries they cover; a jurisdiction named "X (Y)" covers country X, and
# "International ..." covers everyone.
EU_COUNTRIES = frozenset({
    "Austria", "Belgium", "Bulgaria", "Croatia", "Cyprus", "Czechia", "Czech Republic", "Denmark", "Estonia",
    "Finland", "France", "Germany", "Greece", "Hungary", "Ireland", "Italy", "Latvia", "Lithuania", "Luxembourg",
    "Malta", "Netherlands", "Poland", "Portugal", "Romania", "Slovakia", "Slovenia", "Spain", "Sweden"})
WORKING_LANGUAGE = "en"  # the language global policies are written in
JURISDICTION_ALIASES = {"中国大陆": "China", "中国": "China", "Mainland China": "China", "UK": "United Kingdom",
                        "US": "United States", "USA": "United States"}


def _same_place(name: str, country: str) -> bool:
    name = JURISDICTION_ALIASES.get(name, name.split(" (")[0].strip())
    if name == "EU":
        return country in EU_COUNTRIES
    return JURISDICTION_ALIASES.get(name, name) == JURISDICTION_ALIASES.get(country, country)


def jurisdiction_covers(jurisdiction: str | None, country: str | None) -> bool:
    """Whether a rule of `jurisdiction` can apply to a customer in `country` (unknown either side: yes).

    "Global" and "International (...)" cover everyone, except the places an "International
    (excluding X, Y)" names.
    """
    if not jurisdiction or not country:
        return True
    name = jurisdiction.strip()
    if name.lower().startswith("international") or name.lower() == "global":
        excluded = re.search(r"\(excluding ([^)]*)\)", name)
        return not excluded or not any(_same_place(place.strip(), country) for place in excluded.group(1).split(","))
    return _same_place(name, country)


def applicable_rules(rules: list[dict[str, Any]], country: str | None, language: str | None) -> list[dict[str, Any]]:
    """Drop rules reached through APPLIES_TO (segment, product, category) that cannot apply to this customer.

    Why: APPLIES_TO ties a rule to what was bought, not where; so a UK customer's hardware reached
    the China refund policy. A policy or rule with a jurisdiction must cover the customer's country
    (the sample writes one on every policy and rule). Only for data without a jurisdiction is it
    inferred from the language: a rule written in a language the customer does not use is a
    localised variant and is dropped, unless it is in the working language (global policies are
    written in it) and no rule in the customer's language covers its topics. Rules bound to the
    customer directly (GOVERNED_BY) are always kept.
    """
    def direct(rule: dict[str, Any]) -> bool:
        return any(not v.startswith(APPLIES_TO) for v in rule["via"])

    local_topics = {t for r in rules if r.get("language") == language for t in r.get("topics") or ()}
    kept = []
    for rule in rules:
        if not direct(rule):
            if rule.get("jurisdiction") and not jurisdiction_covers(rule["jurisdiction"], country):
                continue
            foreign = bool(language and rule.get("language") and rule["language"] != language)
            if foreign and not rule.get("jurisdiction") and (
                    rule["language"] != WORKING_LANGUAGE or local_topics & set(rule.get("topics") or ())):
                continue
        kept.append({k: v for k, v in rule.items() if k != "topics"})
    return kept


def customer_360(graph: Graph, uid: str, cases: int = 10, top: int = 5, experts: int = 5,
                 groups: list[str] | None = None, mined: bool = True) -> Customer360:
    """The 360 view of customer `uid` as a caller seeing `groups` may see it (None: everything).

    `mined` (`kg.field_access.reads_mined`): whether the caller may read mined figures; without
    it the profile loses them and the mined segment is left out.

    EntityNotFound when the graph has no such customer or the caller may not see it (the same
    answer, so a restricted customer cannot be told from an absent one).
    """
    rows = graph.read(CUSTOMER_360_QUERY, uid=uid, mined=MINED_SOURCE, done=DONE_STATUSES, cases=cases, top=top, experts=experts,
                      topics=3, groups=query_groups(groups))
    if not rows:
        raise EntityNotFound(f"no customer with uid {uid!r} in the graph")
    r = rows[0]
    tx = r["transactions"] or {}
    tx["total"] = round(tx.get("total") or 0.0, 2)
    return Customer360(
        uid=uid, profile=node_properties({k: v for k, v in r["profile"].items() if k not in _HIDDEN}, mined),
        segment=r["segment"],
        transactions=tx, top_products=r["topProducts"], products=r["products"], open_cases=r["openCases"],
        closed_cases=r["closedCases"], case_counts={"open": r["openCount"], "closed": r["closedCount"]},
        rules=applicable_rules(merge_rules(r["rules"]), r["profile"].get("country"), r["profile"].get("language")), account_team=r["accountTeam"], recent_topics=r["recentTopics"],
        experts=r["experts"], mined_segment=r["minedSegment"] if mined else None)
