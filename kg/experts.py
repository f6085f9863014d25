"""Expert finding: who in the company can help with this question, and why we think so.

Reads the evidence from the graph (cases resolved, documents authored, declared skills, the
topic taxonomy, ownership, open cases) and ranks with `kcrm.kg.expert_scoring`. Query relevance
of cases and documents comes from the semantic search (read-only); without a text query, the
cases of the topic, product or customer asked about stand in for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from kcrm.foundation.config import get_settings
from kcrm.foundation.errors import BadQuery, EntityNotFound
from kcrm.kg.connection import Graph
from kcrm.kg.expert_scoring import (
    AUTHORED_WEIGHT,
    Association,
    ExpertProfile,
    ExpertScore,
    Weights,
    activities,
    activity,
    case_weight,
    has_evidence,
    normalise_scores,
    preset,
    rank,
    relevance_from_scores,
    topic_distribution,
)
from kcrm.kg.static_cache import cached
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import load_ontology

log = logging.getLogger(__name__)

_O = load_ontology()
EMPLOYEE, TOPIC, CASE, DOC = (_O.class_spec(n).name for n in ("Employee", "Topic", "SupportCase", "Document"))
PRODUCT, CUSTOMER = _O.class_spec("Product").name, _O.class_spec("Customer").name
HAS_SKILL, OWNS, RESOLVED_BY, AUTHORED, HAS_TOPIC, BROADER, ABOUT_PRODUCT, RAISED = (
    _O.relationship(t).type for t in ("HAS_SKILL", "OWNS", "RESOLVED_BY", "AUTHORED", "HAS_TOPIC", "BROADER",
                                      "ABOUT_PRODUCT", "RAISED"))
DONE_STATUSES = ["resolved", "closed"]
SEARCH_DEPTH = 200
UNQUERIED_ITEMS = 300
EVIDENCE_FLOOR = 0.01  # items adding less than 1% of an expert's best item are not shown

# Every query is trimmed by the caller's $groups (null: none, see kcrm.kg.visibility): restricted
# cases and documents neither count for anyone nor appear as evidence.
PROFILES_QUERY = f"""
MATCH (e:{EMPLOYEE}) WHERE {visible('e')}
CALL (e) {{ OPTIONAL MATCH (e)-[s:{HAS_SKILL}]->(t:{TOPIC}) RETURN collect([t.uid, s.level]) AS skills }}
CALL (e) {{ OPTIONAL MATCH (e)-[:{OWNS}]->(x) WHERE {visible('x')} RETURN collect(x.uid) AS owns }}
CALL (e) {{ OPTIONAL MATCH (c:{CASE})-[:{RESOLVED_BY}]->(e) WHERE {visible('c')}
           RETURN collect(CASE WHEN c.status IN $done THEN coalesce(c.closedAt, '') END) AS resolved_at,
                  count(CASE WHEN NOT c.status IN $done THEN 1 END) AS open_cases }}
RETURN e.uid AS uid, e.name AS name, e.team AS team, coalesce(e.languages, []) AS languages,
       skills, owns, resolved_at, open_cases
"""

TAXONOMY_QUERY = f"""
MATCH (t:{TOPIC})
OPTIONAL MATCH (t)-[:{BROADER}]->(p:{TOPIC})
RETURN t.uid AS uid, t.name AS name, collect(p.uid) AS broader
"""

ITEMS_QUERY = f"""
MATCH (c:{CASE}) WHERE c.uid IN $uids AND {visible('c')}
CALL (c) {{ OPTIONAL MATCH (c)-[:{RESOLVED_BY}]->(e:{EMPLOYEE}) WHERE {visible('e')} RETURN collect(e.uid) AS experts }}
CALL (c) {{ OPTIONAL MATCH (c)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN collect(t.uid) AS topics }}
RETURN c.uid AS uid, '{CASE}' AS type, c.title AS title, c.status AS status, c.closedAt AS at, experts, topics
UNION ALL
MATCH (d:{DOC}) WHERE d.uid IN $uids AND {visible('d')}
CALL (d) {{ OPTIONAL MATCH (e:{EMPLOYEE})-[:{AUTHORED}]->(d) WHERE {visible('e')} RETURN collect(e.uid) AS experts }}
CALL (d) {{ OPTIONAL MATCH (d)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN collect(t.uid) AS topics }}
RETURN d.uid AS uid, '{DOC}' AS type, d.title AS title, null AS status, d.publishedAt AS at, experts, topics
"""

SCOPED_CASES_QUERY = f"""
MATCH (c:{CASE}) WHERE c.status IN $done AND {visible('c')}
  AND ($topic IS NULL OR EXISTS {{ (c)-[:{HAS_TOPIC}]->(:{TOPIC})-[:{BROADER}*0..3]->(:{TOPIC} {{uid: $topic}}) }})
  AND ($product IS NULL OR EXISTS {{ (c)-[:{ABOUT_PRODUCT}]->(:{PRODUCT} {{uid: $product}}) }})
  AND ($customer IS NULL OR EXISTS {{ (:{CUSTOMER} {{uid: $customer}})-[:{RAISED}]->(c) }})
RETURN c.uid AS uid ORDER BY c.closedAt DESC LIMIT $limit
"""

EXISTS_QUERY = f"""
RETURN ($topic IS NULL OR EXISTS {{ MATCH (t:{TOPIC} {{uid: $topic}}) WHERE {visible('t')} }}) AS topic,
       ($product IS NULL OR EXISTS {{ MATCH (p:{PRODUCT} {{uid: $product}}) WHERE {visible('p')} }}) AS product,
       ($customer IS NULL OR EXISTS {{ MATCH (c:{CUSTOMER} {{uid: $customer}}) WHERE {visible('c')} }}) AS customer
"""


class Searcher(Protocol):
    """What expert finding needs from search: ranked hits with uid, type and score."""

    def search(self, query: str, k: int = 10, types: set[str] | None = None,
               groups: list[str] | None = None) -> list[Any]: ...


@dataclass(frozen=True)
class ExpertQuery:
    """A question for expert finding; at least one of q, topic, product, customer."""

    q: str | None = None
    topic: str | None = None
    product: str | None = None
    customer: str | None = None
    team: str | None = None
    language: str | None = None
    k: int = 10
    max_open_cases: int | None = None


@dataclass
class EvidenceItem:
    """A case or document that raised an expert's score, and the graph path that ties them."""

    uid: str
    type: str
    title: str
    contribution: float
    path: str


@dataclass
class SkillEvidence:
    """A declared skill that matched one of the query's topics, `hops` taxonomy steps away."""

    topic: str
    skill_topic: str
    level: int
    hops: int
    path: str


@dataclass
class RankedExpert:
    """One expert in the answer, with the parts of the score and the evidence behind them."""

    uid: str
    name: str
    team: str
    languages: list[str]
    score: float
    components: dict[str, float]
    open_cases: int
    evidence: list[EvidenceItem] = field(default_factory=list)
    skills: list[SkillEvidence] = field(default_factory=list)
    owns: list[str] = field(default_factory=list)


@dataclass
class ExpertResult:
    """The ranking and the topics the query was understood to be about."""

    query: ExpertQuery
    topics: dict[str, float]
    experts: list[RankedExpert]


@dataclass
class ItemFacts:
    """What the graph says about a retrieved item: its type, title, experts and topics."""

    uid: str
    type: str
    title: str
    status: str | None
    at: str | None
    experts: list[str]
    topics: list[str]


def parse_time(value: Any) -> datetime | None:
    """An ISO date or date-time from the graph as an aware datetime (None when missing or unparsable)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def associations_for(items: dict[str, ItemFacts], now: datetime, weights: Weights) -> dict[str, list[Association]]:
    """The association strength of each item with each of its experts (outcome and recency for cases)."""
    out: dict[str, list[Association]] = {}
    for item in items.values():
        if item.type == CASE:
            weight = case_weight(item.status, parse_time(item.at), now, weights)
            kind = RESOLVED_BY
        else:
            weight, kind = AUTHORED_WEIGHT, AUTHORED
        if weight > 0:
            out[item.uid] = [Association(expert=e, item=item.uid, kind=kind, weight=weight) for e in item.experts]
    return out


class ExpertFinder:
    """Ranks employees for a question from the graph's evidence; reads only."""

    def __init__(self, graph: Graph, searcher: Searcher | None = None, weights: Weights | None = None,
                 groups: list[str] | None = None) -> None:
        self.graph = graph
        self.searcher = searcher
        self.weights = weights or preset(get_settings().expert_ranking)
        self.groups = query_groups(groups)  # the caller's access groups (None: sees everything)

    def profiles(self) -> tuple[dict[str, dict[str, Any]], dict[str, ExpertProfile]]:
        """Every employee's facts and ranking profile (skills, ownership, load, activity); cached until ingest.

        Cached per group set: what a caller may see shapes the profile (trimmed cases and documents);
        and per prior half-life. The activity prior weighs each resolved case by its age at read time;
        exponential decay ranks the same however long the cache lives.
        """
        return cached(self.graph, f"expert_profiles:{self.groups}:{self.weights.prior_half_life_days}:"
                                  f"{self.weights.prior_half_lives}", self._read_profiles)

    def _read_profiles(self) -> tuple[dict[str, dict[str, Any]], dict[str, ExpertProfile]]:
        rows = self.graph.read(PROFILES_QUERY, done=DONE_STATUSES, groups=self.groups)
        facts = {r["uid"]: r for r in rows}
        now = datetime.now(UTC)
        profiles = {}
        for r in rows:
            resolved = [parse_time(t) for t in r["resolved_at"]]
            profiles[r["uid"]] = ExpertProfile(
                uid=r["uid"], skills={t: int(lv or 0) for t, lv in r["skills"]}, owns=frozenset(r["owns"]),
                open_cases=r["open_cases"], activity=activity(resolved, now, self.weights.prior_half_life_days),
                activities=activities(resolved, now, self.weights.prior_half_lives))
        return facts, profiles

    def taxonomy(self) -> dict[str, list[str]]:
        """Topic uid -> its broader topics (cached until ingest)."""
        return cached(self.graph, "topic_taxonomy",
                      lambda: {r["uid"]: r["broader"] for r in self.graph.read(TAXONOMY_QUERY)})

    def items(self, uids: list[str]) -> dict[str, ItemFacts]:
        """Facts about retrieved cases and documents, by uid."""
        if not uids:
            return {}
        return {r["uid"]: ItemFacts(**r) for r in self.graph.read(ITEMS_QUERY, uids=uids, groups=self.groups)}

    def relevance(self, query: ExpertQuery, hits: list[Any] | None = None) -> dict[str, float]:
        """p(q|d) over cases and documents: from search for a text query, uniform over the scope otherwise."""
        if query.q:
            if self.searcher is None:
                raise BadQuery("a text query needs the search index, which is not loaded")
            if hits is None:
                hits = self.searcher.search(query.q, k=SEARCH_DEPTH, types={CASE, DOC}, groups=self.groups)
            return relevance_from_scores(normalise_scores({h.uid: h.score for h in hits}),
                                         self.weights.relevance_temperature)
        rows = self.graph.read(SCOPED_CASES_QUERY, done=DONE_STATUSES, topic=query.topic, product=query.product,
                               customer=query.customer, limit=UNQUERIED_ITEMS, groups=self.groups)
        return {r["uid"]: 1.0 / len(rows) for r in rows}

    def check(self, query: ExpertQuery) -> None:
        """BadQuery for an empty question, EntityNotFound for a topic, product or customer the graph lacks."""
        if not (query.q and query.q.strip()) and not (query.topic or query.product or query.customer):
            raise BadQuery("give at least one of q, topic, product or customer")
        if not (query.topic or query.product or query.customer):
            return
        found = self.graph.read(EXISTS_QUERY, topic=query.topic, product=query.product, customer=query.customer,
                                groups=self.groups)[0]
        for name, ok in found.items():
            if not ok:
                raise EntityNotFound(f"no {name} with uid {getattr(query, name)!r} in the graph")

    def find(self, query: ExpertQuery, now: datetime | None = None, hits: list[Any] | None = None) -> ExpertResult:
        """The top-k experts for `query`, each with the evidence that ranked them.

        `hits` (search results for `query.q` over cases and documents) saves a second search for a
        caller that already ran it.
        """
        self.check(query)
        facts, profiles = self.profiles()
        candidates = {uid: p for uid, p in profiles.items() if _admits(facts[uid], p, query)}
        relevance = self.relevance(query, hits)
        items = self.items(list(relevance))
        now = now or datetime.now(UTC)
        ranked = rank(relevance, associations_for(items, now, self.weights), {u: i.topics for u, i in items.items()},
                      candidates, self.taxonomy(), self.weights,
                      explicit_topics=[query.topic] if query.topic else [],
                      targets=frozenset(t for t in (query.product, query.customer) if t))
        topics = topic_distribution({u: i.topics for u, i in items.items()}, relevance,
                                    [query.topic] if query.topic else [])
        top_topics = dict(sorted(topics.items(), key=lambda kv: -kv[1])[:5])
        experts = [_explain(entry, facts[entry.expert], items, query, self.weights) for entry in ranked[:query.k] if has_evidence(entry)]
        log.debug("experts for %r: %s", query.q, [e.uid for e in experts])
        return ExpertResult(query=query, topics={t: round(v, 4) for t, v in top_topics.items()}, experts=experts)


def _admits(fact: dict[str, Any], profile: ExpertProfile, query: ExpertQuery) -> bool:
    if query.team and (fact.get("team") or "").lower() != query.team.lower():
        return False
    if query.language and query.language not in fact.get("languages", []):
        return False
    return query.max_open_cases is None or profile.open_cases <= query.max_open_cases


def _explain(entry: ExpertScore, fact: dict[str, Any], items: dict[str, ItemFacts], query: ExpertQuery,
             weights: Weights, top: int = 5) -> RankedExpert:
    uid = entry.expert
    evidence = []
    floor = entry.contributions[0].value * EVIDENCE_FLOOR if entry.contributions else 0.0
    for c in (c for c in entry.contributions[:top] if c.value >= floor):
        item = items[c.item]
        arrow = (f"({uid})<-[:{RESOLVED_BY}]-({item.uid})" if item.type == CASE
                 else f"({uid})-[:{AUTHORED}]->({item.uid})")
        evidence.append(EvidenceItem(uid=item.uid, type=item.type, title=item.title or "",
                                     contribution=round(c.value, 6), path=arrow))
    skills = [SkillEvidence(topic=t, skill_topic=s, level=lv, hops=h,
                            path=f"({uid})-[:{HAS_SKILL} {{level: {lv}}}]->({s})" + (
                                f"-[:{BROADER}*{h}]-({t})" if h else ""))
              for t, s, lv, h in entry.skill_matches]
    owns = [t for t in (query.product, query.customer) if t and t in fact["owns"]]
    components = {"documents": round(entry.documents, 6), "skills": round(entry.skills, 6),
                  "ownership": round(entry.ownership, 6), "prior": round(entry.prior, 6),
                  **{f"prior_{h:g}d": round(p, 6) for (h, _), p in zip(weights.prior_mix, entry.priors, strict=True)},
                  "load_penalty": round(entry.penalty, 6)}
    return RankedExpert(uid=uid, name=fact.get("name") or "", team=fact.get("team") or "",
                        languages=list(fact.get("languages") or []), score=round(entry.score, 6),
                        components=components, open_cases=fact["open_cases"], evidence=evidence, skills=skills,
                        owns=[f"({uid})-[:{OWNS}]->({t})" for t in owns])
