"""Graph analytics with networkx over a collaboration projection read from Neo4j.

Two employees collaborate when they resolved cases of the same customer, product or topic, or
authored documents on the same topic; the edge weight is the evidence they share (for each
shared context, the smaller of their two counts). On that weighted graph we compute PageRank
centrality (who sits where knowledge flows) and Louvain communities of practice (who works on
the same things), each community labelled by its dominant topics. The projection and the
networkx work are pure functions of (employee, context, count) rows, so they are tested on
hand-checkable graphs and reused by the forum evaluation; `CollaborationAnalytics` reads the
rows with parameterised Cypher and caches the result per graph watermark.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import ClassVar

import networkx as nx

from kcrm.kg.connection import Graph
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import load_ontology

log = logging.getLogger(__name__)

_O = load_ontology()
EMPLOYEE, TOPIC, CASE, DOC = (_O.class_spec(n).name for n in ("Employee", "Topic", "SupportCase", "Document"))
PRODUCT, CUSTOMER = _O.class_spec("Product").name, _O.class_spec("Customer").name
RESOLVED_BY, AUTHORED, HAS_TOPIC, ABOUT_PRODUCT, RAISED = (
    _O.relationship(t).type for t in ("RESOLVED_BY", "AUTHORED", "HAS_TOPIC", "ABOUT_PRODUCT", "RAISED"))
DONE_STATUSES = ["resolved", "closed"]
SEED = 7  # Louvain is randomised; a fixed seed keeps communities stable between calls
RESOLUTION = 1.0

# (employee, context, count): the cases an employee resolved per customer, product and topic, and
# the documents they authored per topic. Context uids are prefixed with their kind so a topic
# reached through a case and through a document is the same context.
# Trimmed by the caller's $groups (null: none): restricted cases, documents, customers and
# employees do not shape the projection a caller sees (results are cached per group set).
MEMBERSHIP_QUERY = f"""
MATCH (c:{CASE})-[:{RESOLVED_BY}]->(e:{EMPLOYEE}) WHERE c.status IN $done AND {visible('c')} AND {visible('e')}
CALL (c) {{
  MATCH (x:{CUSTOMER})-[:{RAISED}]->(c) WHERE {visible('x')} RETURN 'customer' AS kind, x.uid AS ctx
  UNION
  MATCH (c)-[:{ABOUT_PRODUCT}]->(p:{PRODUCT}) WHERE {visible('p')} RETURN 'product' AS kind, p.uid AS ctx
  UNION
  MATCH (c)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN 'topic' AS kind, t.uid AS ctx
}}
RETURN e.uid AS employee, kind, ctx, count(*) AS n
UNION ALL
MATCH (e:{EMPLOYEE})-[:{AUTHORED}]->(d:{DOC})-[:{HAS_TOPIC}]->(t:{TOPIC}) WHERE {visible('d')} AND {visible('e')}
RETURN e.uid AS employee, 'topic' AS kind, t.uid AS ctx, count(*) AS n
"""

EMPLOYEES_QUERY = (f"MATCH (e:{EMPLOYEE}) WHERE {visible('e')} "
                   "RETURN e.uid AS uid, e.name AS name, e.team AS team ORDER BY uid")

WATERMARK_QUERY = f"""
MATCH (n) WHERE n:{EMPLOYEE} OR n:{CASE} OR n:{DOC}
RETURN max(n.updatedAt) AS mark, count(n) AS n
"""


@dataclass(frozen=True)
class Membership:
    """`count` items of `member` in one context (a customer, product, topic or forum thread)."""

    member: str
    context: str
    count: float = 1.0


@dataclass
class Community:
    """A community of practice: its members (most central first) and the topics they work on."""

    id: int
    members: list[str]
    topics: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class CollaborationResult:
    """Centrality and communities of one projection, computed at one graph watermark."""

    watermark: str
    nodes: int
    edges: int
    centrality: dict[str, float]
    community_of: dict[str, int]
    communities: list[Community]

    def ranking(self) -> list[tuple[str, float]]:
        """Members by centrality, most central first (ties by uid)."""
        return sorted(self.centrality.items(), key=lambda kv: (-kv[1], kv[0]))


def project(memberships: Iterable[Membership], members: Iterable[str] = ()) -> nx.Graph:
    """The weighted one-mode projection: an edge per pair sharing a context, weight = sum of min counts.

    `members` adds nodes with no shared context, so everyone appears in the result.
    """
    by_context: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    g = nx.Graph()
    g.add_nodes_from(members)
    for m in memberships:
        by_context[m.context][m.member] += m.count
        g.add_node(m.member)
    for counts in by_context.values():
        for a, b in combinations(sorted(counts), 2):
            w = min(counts[a], counts[b])
            if g.has_edge(a, b):
                g[a][b]["weight"] += w
            else:
                g.add_edge(a, b, weight=w)
    return g


def centrality(g: nx.Graph) -> dict[str, float]:
    """Weighted PageRank (sums to 1); isolated members keep the teleport share."""
    if g.number_of_nodes() == 0:
        return {}
    return dict(nx.pagerank(g, weight="weight"))


def communities(g: nx.Graph, seed: int = SEED, resolution: float = RESOLUTION) -> list[set[str]]:
    """Louvain communities on the weighted graph, largest first (isolated members are singletons)."""
    if g.number_of_nodes() == 0:
        return []
    found = nx.community.louvain_communities(g, weight="weight", resolution=resolution, seed=seed)
    return sorted((set(c) for c in found), key=lambda c: (-len(c), min(c)))


def analyse(memberships: Iterable[Membership], members: Iterable[str] = (), watermark: str = "",
            topic_prefix: str = "topic:", top_topics: int = 3) -> CollaborationResult:
    """Projection, centrality and communities with their dominant topics, in one typed result."""
    memberships = list(memberships)
    g = project(memberships, members)
    rank = centrality(g)
    groups = communities(g)
    community_of = {m: i for i, group in enumerate(groups) for m in group}
    topic_counts: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for m in memberships:
        if m.context.startswith(topic_prefix):
            topic_counts[community_of[m.member]][m.context[len(topic_prefix):]] += m.count
    out = []
    for i, group in enumerate(groups):
        total = sum(topic_counts[i].values())
        topics = [(t, round(n / total, 4)) for t, n in sorted(topic_counts[i].items(), key=lambda kv: (-kv[1], kv[0]))
                  [:top_topics]] if total else []
        out.append(Community(id=i, members=sorted(group, key=lambda m: (-rank.get(m, 0.0), m)), topics=topics))
    log.debug("collaboration graph: %d nodes, %d edges, %d communities", g.number_of_nodes(), g.number_of_edges(),
              len(out))
    return CollaborationResult(watermark=watermark, nodes=g.number_of_nodes(), edges=g.number_of_edges(),
                               centrality=rank, community_of=community_of, communities=out)


def normalised(values: Mapping[str, float]) -> dict[str, float]:
    """Values divided by the largest, so a prior built on them lies in [0, 1]."""
    top = max(values.values(), default=0.0)
    return {k: v / top for k, v in values.items()} if top > 0 else {k: 0.0 for k in values}


class CollaborationAnalytics:
    """The employee collaboration graph of one Neo4j database, recomputed only when the graph changes."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _cache: ClassVar[dict[str, CollaborationResult]] = {}

    def __init__(self, graph: Graph, groups: list[str] | None = None) -> None:
        self.graph = graph
        self.groups = query_groups(groups)  # the caller's access groups (None: sees everything)

    def watermark(self) -> str:
        """Newest `updatedAt` and count of employees, cases and documents: changes when the projection may."""
        row = self.graph.read(WATERMARK_QUERY)[0]
        return f"{row['mark'] or ''}|{row['n']}"

    def employees(self) -> dict[str, dict[str, str]]:
        """Employee uid -> name and team."""
        return {r["uid"]: {"name": r["name"] or "", "team": r["team"] or ""}
                for r in self.graph.read(EMPLOYEES_QUERY, groups=self.groups)}

    def memberships(self) -> list[Membership]:
        """The bipartite employee-context rows of the projection."""
        rows = self.graph.read(MEMBERSHIP_QUERY, done=DONE_STATUSES, groups=self.groups)
        return [Membership(r["employee"], f"{r['kind']}:{r['ctx']}", float(r["n"])) for r in rows if r["ctx"]]

    def result(self) -> CollaborationResult:
        """Centrality and communities at the current watermark (cached per database and watermark)."""
        mark = self.watermark()
        key = f"{getattr(self.graph, 'uri', id(self.graph))}|{getattr(self.graph, 'database', '')}|{mark}|{self.groups}"
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = analyse(self.memberships(), self.employees(), watermark=mark)
        with self._lock:
            for stale in [k for k, v in self._cache.items() if v.watermark != mark]:
                del self._cache[stale]  # other group sets at this watermark stay cached
            self._cache[key] = result
        log.info("collaboration analytics at %s: %d employees, %d edges, %d communities", mark, result.nodes,
                 result.edges, len(result.communities))
        return result
