"""The case assistant: for the text of a new case, what happened before, what rules apply, who can help.

Similar resolved cases come from the semantic search; their resolutions, resolvers and governing
policies come from the graph; experts from `kcrm.kg.experts`; entities named in the text from the
entity ruler built from the graph's names (`kcrm.nlp.linking`, the same one ingest links with);
the customer's context from Customer 360.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kcrm.foundation.errors import BadQuery
from kcrm.kg.connection import Graph
from kcrm.kg.customer360 import Customer360, customer_360
from kcrm.kg.experts import DOC, SEARCH_DEPTH, ExpertFinder, ExpertQuery, RankedExpert, Searcher
from kcrm.kg.visibility import query_groups, visible
from kcrm.nlp.extraction import Mention
from kcrm.ontology.model import load_ontology

log = logging.getLogger(__name__)

_O = load_ontology()
CASE, EMPLOYEE, PRODUCT, CUSTOMER, TOPIC = (_O.class_spec(n).name for n in
                                            ("SupportCase", "Employee", "Product", "Customer", "Topic"))
RESOLVED_BY, GOVERNED_BY, HAS_TOPIC, ABOUT_PRODUCT = (
    _O.relationship(t).type for t in ("RESOLVED_BY", "GOVERNED_BY", "HAS_TOPIC", "ABOUT_PRODUCT"))
DONE_STATUSES = ["resolved", "closed"]

# Trimmed by the caller's $groups (null: none): restricted cases, rules, products and customers are
# neither suggested nor recognised in the text.
CASE_FACTS_QUERY = f"""
MATCH (k:{CASE}) WHERE k.uid IN $uids AND k.status IN $done AND {visible('k')}
RETURN k.uid AS uid, k.title AS title, k.status AS status, k.resolution AS resolution, k.closedAt AS closedAt,
  COLLECT {{ MATCH (k)-[:{RESOLVED_BY}]->(e:{EMPLOYEE}) WHERE {visible('e')} RETURN e{{.uid, .name}} }} AS resolvedBy,
  COLLECT {{ MATCH (k)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN t.uid }} AS topics,
  COLLECT {{ MATCH (k)-[:{ABOUT_PRODUCT}]->(p:{PRODUCT}) WHERE {visible('p')} RETURN p.uid }} AS products,
  COLLECT {{ MATCH (k)-[:{GOVERNED_BY}]->(r) WHERE {visible('r')}
             RETURN {{uid: r.uid, type: labels(r)[0], title: r.title}} }} AS rules
"""

# Per label (from the ontology), so the lookup uses the label's uid constraint instead of a scan.
VISIBLE_UIDS_QUERY = "UNWIND $uids AS uid MATCH (n:`{label}` {{uid: uid}}) WHERE " + visible("n") + " RETURN n.uid AS uid"


@dataclass
class SimilarCase:
    """A resolved or closed case like the new one, with how it was resolved."""

    uid: str
    title: str
    score: float
    status: str
    resolution: str | None
    resolved_by: list[dict[str, Any]]
    topics: list[str]
    products: list[str]


@dataclass
class AssistResult:
    """Everything the assistant found for one new case."""

    similar_cases: list[SimilarCase]
    rules: list[dict[str, Any]]
    experts: list[RankedExpert]
    topics: dict[str, float]
    entities: list[Mention]
    customer: Customer360 | None = None
    notes: list[str] = field(default_factory=list)


def recognise(graph: Graph, text: str) -> list[Mention]:
    """Customers, products, policies, rules and employees the text names: the same ruler ingest links with."""
    from kcrm.nlp.linking import cached_ruler

    return [m for m in cached_ruler(graph).extract(text) if m.type != "Topic"]


def merge_rules(case_rules: Iterable[tuple[str, dict[str, Any]]], customer_rules: Iterable[dict[str, Any]]
                ) -> list[dict[str, Any]]:
    """Policies and rules from similar cases (with the cases that cite them) and from the customer."""
    merged: dict[str, dict[str, Any]] = {}
    for case_uid, rule in case_rules:
        entry = merged.setdefault(rule["uid"], {**rule, "cases": [], "customer": False})
        if case_uid not in entry["cases"]:
            entry["cases"].append(case_uid)
    for rule in customer_rules:
        entry = merged.setdefault(rule["uid"], {"uid": rule["uid"], "type": rule["type"], "title": rule["title"],
                                                "cases": [], "customer": False})
        entry["customer"] = True
    return sorted(merged.values(), key=lambda r: (not r["customer"], -len(r["cases"]), r["uid"]))


class CaseAssistant:
    """Puts search, expert finding and the graph together for one new case."""

    def __init__(self, graph: Graph, searcher: Searcher, groups: list[str] | None = None) -> None:
        self.graph = graph
        self.searcher = searcher
        self.groups = query_groups(groups)  # the caller's access groups (None: sees everything)

    def visible_mentions(self, mentions: list[Mention]) -> list[Mention]:
        """The mentions of nodes the caller may see: the ruler knows every name, restricted ones too."""
        if self.groups is None or not mentions:
            return mentions
        allowed: set[str] = set()
        for kind in sorted({m.type for m in mentions}):
            query = VISIBLE_UIDS_QUERY.format(label=_O.class_spec(kind).name)
            uids = sorted({m.uid for m in mentions if m.type == kind})
            allowed.update(row["uid"] for row in self.graph.read(query, uids=uids, groups=self.groups))
        return [m for m in mentions if m.uid in allowed]

    def similar(self, hits: list[Any], n: int) -> tuple[list[SimilarCase], dict[str, list[dict[str, Any]]]]:
        """The n most similar resolved or closed cases among `hits`, best first, and the rules governing each."""
        scores = {h.uid: h.score for h in hits if h.type == CASE}
        rows = self.graph.read(CASE_FACTS_QUERY, uids=list(scores), done=DONE_STATUSES, groups=self.groups)
        cases = [SimilarCase(uid=r["uid"], title=r["title"] or "", score=round(scores[r["uid"]], 4),
                             status=r["status"], resolution=r["resolution"], resolved_by=r["resolvedBy"],
                             topics=r["topics"], products=r["products"]) for r in rows]
        cases.sort(key=lambda c: -c.score)
        return cases[:n], {r["uid"]: r["rules"] for r in rows}

    def assist(self, text: str, customer_uid: str | None = None, n_cases: int = 5, n_experts: int = 5
               ) -> AssistResult:
        """Similar cases, rules, experts, recognised entities and the customer's context for `text`."""
        if not text.strip():
            raise BadQuery("the case text must not be empty")
        customer = customer_360(self.graph, customer_uid, groups=self.groups) if customer_uid else None
        hits = self.searcher.search(text, k=SEARCH_DEPTH, types={CASE, DOC}, groups=self.groups)
        similar, governing = self.similar(hits, n_cases)
        case_rules = [(c.uid, rule) for c in similar for rule in governing.get(c.uid, [])]
        rules = merge_rules(case_rules, customer.rules if customer else [])
        experts = ExpertFinder(self.graph, self.searcher, groups=self.groups).find(
            ExpertQuery(q=text, customer=customer_uid, k=n_experts), hits=hits)
        entities = self.visible_mentions(recognise(self.graph, text))
        log.debug("assist: %d similar cases, %d rules, %d entities", len(similar), len(rules), len(entities))
        return AssistResult(similar_cases=similar, rules=rules, experts=experts.experts, topics=experts.topics,
                            entities=entities, customer=customer)
