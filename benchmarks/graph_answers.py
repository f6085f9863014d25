"""Latency of Customer 360, case assist and expert finding (p50, p99) on an already loaded graph.

Case assist and expert finding are also timed with the static-facts cache switched off
(`kcrm.kg.static_cache.disabled`), calls interleaved with the cached ones so that both see the
same machine load: the before/after of caching in one run.

Uses the configured settings (KCRM_DATA_DIR, KCRM_NEO4J_BOLT_PORT, NEO4J_URI...): load the sample
and `kcrm reindex` first. Baselines measured in the same process:
- Customer 360 vs a single-node lookup of the same customer (one round trip that does nothing);
- case assist and expert finding vs the search call they start from;
- expert finding with the forum ranking (KCRM_EXPERT_RANKING=forums: recency-weighted activity
  prior times text evidence) vs the sample ranking it replaces there (the ranking before issue 19),
  calls interleaved, cache on and cache off.

    .venv/bin/python benchmarks/graph_answers.py [--n 100] [--json var/bench/graph_answers.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from kcrm import workflows
from kcrm.foundation.config import get_settings
from kcrm.kg import static_cache
from kcrm.kg.case_assist import CaseAssistant
from kcrm.kg.customer360 import customer_360
from kcrm.kg.expert_scoring import Weights, preset
from kcrm.kg.experts import ExpertFinder, ExpertQuery
from kcrm.search.service import load_search_service

TEXTS = ["My printer was returned two weeks ago and I still have no refund", "退款还没有到账",
         "VPN disconnects every few minutes", "路由器经常断网", "invoice shows the wrong amount",
         "cannot log in after enabling two-factor", "笔记本电池耗电快", "please delete all my personal data"]


def timed(fn: Callable[[], object], n: int) -> dict[str, float]:
    """p50 and p99 in milliseconds over n calls (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2), "p99_ms": round(samples[min(n - 1, int(n * 0.99))], 2)}


def timed_pair(fn: Callable[[], object], n: int) -> tuple[dict[str, float], dict[str, float]]:
    """p50/p99 of `fn` with the static cache on and off, the two interleaved call by call."""
    fn()
    on, off = [], []
    for _ in range(n):
        for samples, cache in ((on, True), (off, False)):
            start = time.perf_counter()
            if cache:
                fn()
            else:
                with static_cache.disabled():
                    fn()
            samples.append((time.perf_counter() - start) * 1000)
    return tuple({"p50_ms": round(statistics.median(s), 2),  # type: ignore[return-value]
                  "p99_ms": round(sorted(s)[min(n - 1, int(n * 0.99))], 2)} for s in (on, off))


def timed_interleaved(fns: dict[str, Callable[[], object]], n: int, cache: bool = True
                      ) -> dict[str, dict[str, float]]:
    """p50/p99 of each function, called in turn so that all see the same load (static cache on or off)."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(n):
        for name, fn in fns.items():
            start = time.perf_counter()
            if cache:
                fn()
            else:
                with static_cache.disabled():
                    fn()
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: {"p50_ms": round(statistics.median(s), 2), "p99_ms": round(sorted(s)[min(n - 1, int(n * 0.99))], 2)}
            for name, s in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    settings = get_settings()
    graph = workflows.open_graph(settings)
    search = load_search_service(settings)
    customers = [r["uid"] for r in graph.read("MATCH (c:Customer) RETURN c.uid AS uid ORDER BY uid")]
    it = iter(range(10**9))

    def nxt(seq: list[str]) -> str:
        return seq[next(it) % len(seq)]

    figures = {
        "customer_360": timed(lambda: customer_360(graph, nxt(customers)), args.n),
        "baseline_node_lookup": timed(lambda: graph.read("MATCH (c:Customer {uid: $uid}) RETURN c", uid=nxt(customers)),
                                      args.n),
        "case_assist": timed(lambda: CaseAssistant(graph, search).assist(nxt(TEXTS), customer_uid=nxt(customers)),
                             args.n),
        "experts": timed(lambda: ExpertFinder(graph, search).find(ExpertQuery(q=nxt(TEXTS))), args.n),
        "baseline_search_k200": timed(lambda: search.search(nxt(TEXTS), k=200), args.n),
    }
    figures["case_assist_cached"], figures["case_assist_uncached"] = timed_pair(
        lambda: CaseAssistant(graph, search).assist(nxt(TEXTS), customer_uid=nxt(customers)), args.n)
    figures["experts_cached"], figures["experts_uncached"] = timed_pair(
        lambda: ExpertFinder(graph, search).find(ExpertQuery(q=nxt(TEXTS))), args.n)
    def ranker(weights: Weights) -> Callable[[], object]:
        return lambda: ExpertFinder(graph, search, weights=weights).find(ExpertQuery(q=nxt(TEXTS)))

    rankers = {name: ranker(preset(name)) for name in ("forums", "sample")}
    for cache in (True, False):
        timing = timed_interleaved({f"experts_{name}_{'cached' if cache else 'uncached'}": fn
                                    for name, fn in rankers.items()}, args.n, cache)
        figures.update(timing)
        state = "cached" if cache else "uncached"
        figures[f"ratio_experts_forums_vs_sample_{state}_p50"] = round(
            timing[f"experts_forums_{state}"]["p50_ms"] / timing[f"experts_sample_{state}"]["p50_ms"], 2)
    figures["ratio_assist_cached_vs_uncached_p50"] = round(figures["case_assist_cached"]["p50_ms"]
                                                           / figures["case_assist_uncached"]["p50_ms"], 2)
    figures["ratio_360_vs_lookup_p50"] = round(figures["customer_360"]["p50_ms"]
                                               / figures["baseline_node_lookup"]["p50_ms"], 2)
    figures["ratio_assist_vs_search_p50"] = round(figures["case_assist"]["p50_ms"]
                                                  / figures["baseline_search_k200"]["p50_ms"], 2)
    graph.close()
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
