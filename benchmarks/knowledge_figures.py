"""Knowledge at risk and the knowledge map on an already loaded graph: what they find, and how fast.

Prints, for the whole graph (no trimming) and for a caller without the restricted groups: subjects
with evidence and single-expert subjects per kind, the most concentrated topics, the departure with
the most sole subjects and how many of them get a next best person, the knowledge map's gap counts,
and p50/p99 latency of each answer against the collaboration analytics it sits beside (same
process, same load, `kcrm.kg.analytics` recomputed: its cache cleared before each call).

Uses the configured settings (KCRM_DATA_DIR, KCRM_NEO4J_BOLT_PORT, NEO4J_URI...): load the sample first.

    .venv/bin/python benchmarks/knowledge_figures.py [--n 10] [--as-of 2026-12-01] [--json var/bench/knowledge.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from kcrm import workflows
from kcrm.foundation.config import get_settings
from kcrm.kg.analytics import CollaborationAnalytics
from kcrm.kg.knowledge_map import read_map
from kcrm.kg.knowledge_risk import KINDS, KnowledgeRisk

PUBLIC_CALLER = ["public"]  # a caller in no restricted group


def timed(fn: Callable[[], object], n: int) -> dict[str, float]:
    """p50 and p99 in milliseconds over n calls (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 1), "p99_ms": round(samples[min(n - 1, int(n * 0.99))], 1)}


def risk_figures(risk: KnowledgeRisk) -> dict[str, Any]:
    found = risk.concentrations()
    topics = [c for c in found if c.kind == "topic"]
    figures: dict[str, Any] = {
        "subjects": {k: sum(1 for c in found if c.kind == k) for k in KINDS},
        "single_expert": {k: sum(1 for c in found if c.kind == k and c.single_expert) for k in KINDS},
        "single_expert_topics": sorted(c.uid for c in topics if c.single_expert),
        "most_concentrated_topics": [{"uid": c.uid, "holders": c.holders, "top_share": c.top_share,
                                      "evidence": c.evidence} for c in topics[:3]],
    }
    sole = Counter(c.people[0].uid for c in found if c.single_expert)
    if sole:
        leaver = sole.most_common(1)[0][0]
        impact = risk.departure(leaver)
        figures["largest_departure"] = {
            "employee": leaver, "sole": dict(Counter(i.concentration.kind for i in impact.sole)),
            "with_next_best": sum(1 for i in impact.sole if i.next_best), "holds": impact.holds}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    graph = workflows.open_graph(get_settings())
    everything, public = KnowledgeRisk(graph), KnowledgeRisk(graph, groups=PUBLIC_CALLER)
    kmap = read_map(graph, None, args.as_of)
    leaver = graph.read("MATCH (e:Employee) RETURN e.uid AS uid ORDER BY uid LIMIT 1")[0]["uid"]

    def analytics() -> object:
        CollaborationAnalytics._cache.clear()
        return CollaborationAnalytics(graph).result()

    out = {
        "all_groups": risk_figures(everything),
        "public_caller": risk_figures(public),
        "knowledge_map": {"as_of": kmap.as_of, "topics": kmap.topics, "gap_counts": kmap.gap_counts,
                          "public_gap_counts": read_map(graph, PUBLIC_CALLER, args.as_of).gap_counts},
        "latency": {
            "knowledge_risk": timed(everything.concentrations, args.n),
            "departure_impact": timed(lambda: everything.departure(leaver), args.n),
            "customer_who_knows": timed(lambda: everything.customer("CUS-0001"), args.n),
            "knowledge_map": timed(lambda: read_map(graph, None, args.as_of), args.n),
            "baseline_collaboration_analytics_uncached": timed(analytics, args.n),
        },
    }
    text = json.dumps(out, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
