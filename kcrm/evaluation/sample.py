"""Held-out evaluation of expert finding on the loaded graph (the sample company).

Hides RESOLVED_BY of a random share of resolved cases in memory only (the graph is read, never
written), asks for experts from each hidden case's text, and scores the ranking against the
employee who really resolved it. The baseline ranks employees by how many visible cases of the
hidden case's own topic they resolved (it is told the topic; kcrm only sees the text).
"""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tqdm import tqdm

from kcrm.evaluation.metrics import precision_at, reciprocal_rank
from kcrm.kg.connection import Graph
from kcrm.kg.expert_scoring import (
    Weights,
    normalise_scores,
    rank,
    relevance_from_scores,
)
from kcrm.kg.experts import (
    CASE,
    DOC,
    DONE_STATUSES,
    EMPLOYEE,
    HAS_TOPIC,
    RESOLVED_BY,
    SEARCH_DEPTH,
    TOPIC,
    ExpertFinder,
    Searcher,
    associations_for,
)

log = logging.getLogger(__name__)

RESOLVED_CASES_QUERY = f"""
MATCH (c:{CASE})-[:{RESOLVED_BY}]->(e:{EMPLOYEE}) WHERE c.status IN $done
RETURN c.uid AS uid, c.title AS title, c.description AS description, e.uid AS resolver,
       COLLECT {{ MATCH (c)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN t.uid }} AS topics
ORDER BY uid
"""

VARIANTS: dict[str, Weights] = {
    "kcrm": Weights(),
    "model2_only": Weights(skill=0.0, ownership=0.0, prior=0.0),
}


def evaluate_held_out(graph: Graph, searcher: Searcher, share: float = 0.1, seed: int = 7,
                      progress: bool = False) -> dict[str, Any]:
    """MRR and P@5 of kcrm's ranking, Model 2 alone, and the most-resolved-in-topic baseline."""
    cases = graph.read(RESOLVED_CASES_QUERY, done=DONE_STATUSES)
    hidden = {c["uid"] for c in random.Random(seed).sample(cases, max(1, round(len(cases) * share)))}
    finder = ExpertFinder(graph, searcher)
    _, profiles = finder.profiles()
    visible = [c for c in cases if c["uid"] not in hidden]
    activity = Counter(c["resolver"] for c in visible)
    profiles = {uid: replace(p, activity=float(activity[uid])) for uid, p in profiles.items()}
    by_topic: dict[str, Counter[str]] = defaultdict(Counter)
    for c in visible:
        for topic in c["topics"]:
            by_topic[topic][c["resolver"]] += 1
    broader = finder.taxonomy()
    now = datetime.now(UTC)
    scores: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for case in tqdm([c for c in cases if c["uid"] in hidden], desc="held-out cases", disable=not progress):
        text = f"{case['title'] or ''} {case['description'] or ''}"
        hits = searcher.search(text, k=SEARCH_DEPTH, types={CASE, DOC})
        raw = {h.uid: h.score for h in hits if h.uid != case["uid"]}
        items = finder.items(list(raw))
        for uid in hidden & items.keys():
            items[uid].experts = []
        item_topics = {u: i.topics for u, i in items.items()}
        for name, weights in VARIANTS.items():
            relevance = relevance_from_scores(normalise_scores(raw), weights.relevance_temperature)
            ranked = rank(relevance, associations_for(items, now, weights), item_topics, profiles, broader, weights)
            order = [e.expert for e in ranked]
            scores[name].append((reciprocal_rank(order, case["resolver"], len(order)),
                                 precision_at(order, case["resolver"], 5)))
        topic_counts: Counter[str] = Counter()
        for topic in case["topics"]:
            topic_counts.update(by_topic[topic])
        baseline = sorted(profiles, key=lambda uid: (-topic_counts[uid], -activity[uid], uid))
        scores["most_resolved_in_topic"].append((reciprocal_rank(baseline, case["resolver"], len(baseline)),
                                                 precision_at(baseline, case["resolver"], 5)))
    summary = {name: {"mrr": round(sum(v[0] for v in vals) / len(vals), 4),
                      "p@5": round(sum(v[1] for v in vals) / len(vals), 4)} for name, vals in scores.items()}
    return {"mode": "in-memory (RESOLVED_BY hidden in memory; graph unchanged)", "resolved_cases": len(cases),
            "held_out": len(hidden), "seed": seed, **summary}
