"""The case assistant: for the text of a new case, what happened before, what rules apply, who can help.

Similar resolved cases come from the semantic search; their resolutions, resolvers and governing
policies come from the graph; experts from `kcrm.kg.experts`; entities named in the text from a
dictionary of the graph's product and customer names; the customer's context from Customer 360.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kcrm.errors import BadQuery
from kcrm.kg.connection import Graph
from kcrm.kg.customer360 import Customer360, customer_360
from kcrm.kg.experts import DOC, SEARCH_DEPTH, ExpertFinder, ExpertQuery, RankedExpert, Searcher
from kcrm.kg.static_cache import cached
from kcrm.ontology.model import load_ontology

log = logging.getLogger(__name__)

_O = load_ontology()
CASE, EMPLOYEE, PRODUCT, CUSTOMER, TOPIC = (_O.class_spec(n).name for n in
                                            ("SupportCase", "Employee", "Product", "Customer", "Topic"))
RESOLVED_BY, GOVERNED_BY, HAS_TOPIC, ABOUT_PRODUCT = (
    _O.relationship(t).type for t in ("RESOLVED_BY", "GOVERNED_BY", "HAS_TOPIC", "ABOUT_PRODUCT"))
DONE_STATUSES = ["resolved", "closed"]
MIN_ALIAS = 4

CASE_FACTS_QUERY = f"""
MATCH (k:{CASE}) WHERE k.uid IN $uids AND k.status IN $done
RETURN k.uid AS uid, k.title AS title, k.status AS status, k.resolution AS resolution, k.closedAt AS closedAt,
  COLLECT {{ MATCH (k)-[:{RESOLVED_BY}]->(e:{EMPLOYEE}) RETURN e{{.uid, .name}} }} AS resolvedBy,
  COLLECT {{ MATCH (k)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN t.uid }} AS topics,
  COLLECT {{ MATCH (k)-[:{ABOUT_PRODUCT}]->(p:{PRODUCT}) RETURN p.uid }} AS products,
  COLLECT {{ MATCH (k)-[:{GOVERNED_BY}]->(r) RETURN {{uid: r.uid, type: labels(r)[0], title: r.title}} }} AS rules
"""

DICTIONARY_QUERY = f"""
MATCH (p:{PRODUCT}) RETURN p.uid AS uid, '{PRODUCT}' AS type, [p.name, p.nameZh, p.sku] AS names
UNION ALL
MATCH (c:{CUSTOMER}) RETURN c.uid AS uid, '{CUSTOMER}' AS type, [c.name] AS names
"""


@dataclass(frozen=True)
class Mention:
    """A graph entity named in the text, and where."""

    uid: str
    type: str
    text: str
    start: int
    end: int


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


def aliases(name: str) -> set[str]:
    """Ways the text may name an entity: the name, the name without a parenthesis, model codes in it."""
    name = (name or "").strip()
    if not name:
        return set()
    out = {name}
    bare = re.sub(r"\s*\([^)]*\)", "", name).strip()
    if len(bare.split()) >= 2:
        out.add(bare)
    out.update(tok for tok in name.split() if re.search(r"\d", tok) and re.search(r"[A-Za-z]", tok)
               and len(tok) >= MIN_ALIAS)
    return {a for a in out if len(a) >= MIN_ALIAS or not a.isascii()}


def build_dictionary(rows: Iterable[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Lower-cased alias -> (uid, type); an alias shared by two entities is ambiguous and dropped."""
    seen: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        for name in row["names"]:
            for alias in aliases(name or ""):
                seen.setdefault(alias.lower(), set()).add((row["uid"], row["type"]))
    return {alias: next(iter(owners)) for alias, owners in seen.items() if len(owners) == 1}


def match_entities(text: str, dictionary: dict[str, tuple[str, str]]) -> list[Mention]:
    """Longest non-overlapping dictionary matches; Latin aliases must sit on word boundaries."""
    lowered = text.lower()
    found: list[Mention] = []
    for alias in sorted(dictionary, key=len, reverse=True):
        pattern = re.escape(alias)
        if alias.isascii():
            pattern = rf"(?<![\w-]){pattern}(?![\w-])"
        for m in re.finditer(pattern, lowered):
            if any(m.start() < f.end and f.start < m.end() for f in found):
                continue
            uid, kind = dictionary[alias]
            found.append(Mention(uid=uid, type=kind, text=text[m.start():m.end()], start=m.start(), end=m.end()))
    found.sort(key=lambda mention: mention.start)
    return found


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

    def __init__(self, graph: Graph, searcher: Searcher) -> None:
        self.graph = graph
        self.searcher = searcher

    def dictionary(self) -> dict[str, tuple[str, str]]:
        """The product and customer name dictionary (cached until ingest changes the graph)."""
        return cached(self.graph, "entity_dictionary", lambda: build_dictionary(self.graph.read(DICTIONARY_QUERY)))

    def similar(self, hits: list[Any], n: int) -> tuple[list[SimilarCase], dict[str, list[dict[str, Any]]]]:
        """The n most similar resolved or closed cases among `hits`, best first, and the rules governing each."""
        scores = {h.uid: h.score for h in hits if h.type == CASE}
        rows = self.graph.read(CASE_FACTS_QUERY, uids=list(scores), done=DONE_STATUSES)
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
        customer = customer_360(self.graph, customer_uid) if customer_uid else None
        hits = self.searcher.search(text, k=SEARCH_DEPTH, types={CASE, DOC})
        similar, governing = self.similar(hits, n_cases)
        case_rules = [(c.uid, rule) for c in similar for rule in governing.get(c.uid, [])]
        rules = merge_rules(case_rules, customer.rules if customer else [])
        experts = ExpertFinder(self.graph, self.searcher).find(
            ExpertQuery(q=text, customer=customer_uid, k=n_experts), hits=hits)
        entities = match_entities(text, self.dictionary())
        log.debug("assist: %d similar cases, %d rules, %d entities", len(similar), len(rules), len(entities))
        return AssistResult(similar_cases=similar, rules=rules, experts=experts.experts, topics=experts.topics,
                            entities=entities, customer=customer)
