"""The cost of security trimming: each surface untrimmed (SYSTEM) against a trimmed caller, same process.

Uses the configured settings (KCRM_DATA_DIR, KCRM_NEO4J_BOLT_PORT, NEO4J_URI...) on the loaded
sample and its index (`kcrm demo --no-serve`, or the test stack). Each figure is p50 / p99 over
`--n` calls; the ratio is trimmed p50 over untrimmed p50 of the same calls (the baseline). The
trimmed caller has no group (it sees the public items only); "key team" also sees key accounts.

    .venv/bin/python benchmarks/trimming.py [--n 50] [--json var/bench/trimming.json]
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
from kcrm.kg.customer360 import customer_360
from kcrm.kg.experts import ExpertFinder, ExpertQuery
from kcrm.kg.explore import entity, paths
from kcrm.search.service import load_search_service
from kcrm.search.taxonomy_browse import browse
from kcrm.security.access import SYSTEM, Principal

QUERIES = ["printer driver fails after update", "退款还没有到账", "VPN disconnects every few minutes", "路由器经常断网",
           "invoice shows the wrong amount", "cannot log in after enabling two-factor", "笔记本电池耗电快",
           "please delete all my personal data"]
OUTSIDER = Principal(key_id="bench-outsider", name="outsider")
KEY_TEAM = Principal(key_id="bench-key", name="key team", groups=frozenset({"key-accounts"}))


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    samples = sorted(samples)
    return {"p50_ms": round(statistics.median(samples), 3),
            "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3)}


def compare(name: str, run: Callable[[list[str] | None, int], object], n: int) -> dict[str, object]:
    """One surface for SYSTEM (the baseline), the outsider and the key team, in one process.

    The three callers take turns on each input (after one warm-up round), so load on a shared
    machine falls on all of them alike.
    """
    callers = {"untrimmed": SYSTEM, "outsider": OUTSIDER, "key_team": KEY_TEAM}
    samples: dict[str, list[float]] = {label: [] for label in callers}
    for label, principal in callers.items():
        run(principal.visible_groups(), 0)
    for i in range(n):
        for label, principal in callers.items():
            groups = principal.visible_groups()
            start = time.perf_counter()
            run(groups, i)
            samples[label].append((time.perf_counter() - start) * 1000)
    out: dict[str, object] = {label: percentiles(values) for label, values in samples.items()}
    base = out["untrimmed"]["p50_ms"] or 1e-9  # type: ignore[index]
    out["ratio_outsider"] = round(out["outsider"]["p50_ms"] / base, 3)  # type: ignore[index]
    out["ratio_key_team"] = round(out["key_team"]["p50_ms"] / base, 3)  # type: ignore[index]
    print(f"{name:28s} untrimmed {out['untrimmed']}  outsider {out['outsider']}  key team {out['key_team']}  "
          f"ratios {out['ratio_outsider']} / {out['ratio_key_team']}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    settings = get_settings()
    graph = workflows.open_graph(settings)
    search = load_search_service(settings)
    customers = [r["uid"] for r in graph.read(
        "MATCH (c:Customer)-[:RAISED]->() WITH c, count(*) AS n ORDER BY n DESC, c.uid LIMIT 40 RETURN c.uid AS uid")]
    pairs = [(r["e"], r["c"]) for r in graph.read(
        "MATCH (c:Customer)-[:RAISED]->(:SupportCase)-[:RESOLVED_BY]->(e:Employee) WITH DISTINCT e, c "
        "ORDER BY e.uid, c.uid LIMIT 40 RETURN e.uid AS e, c.uid AS c")]

    def q(i: int) -> str:
        return QUERIES[i % len(QUERIES)]

    figures = {
        "search_hybrid": compare("search hybrid (k=10)", lambda g, i: search.page(q(i), k=10, groups=g), args.n),
        "search_hybrid_facets": compare("search hybrid + facets", lambda g, i: search.page(
            q(i), k=10, facets=True, groups=g), args.n),
        "search_lexical": compare("search lexical", lambda g, i: search.page(q(i), k=10, mode="lexical", groups=g),
                                  args.n),
        "browse_filters_only": compare("browse status:open + facets", lambda g, i: search.page(
            "status:open", k=10, facets=True, groups=g), args.n),
        "taxonomy": compare("taxonomy tree", lambda g, i: browse(search, "topics", groups=g), args.n),
        "customer_360": compare("customer 360", lambda g, i: customer_360(
            graph, customers[i % len(customers)], groups=g), args.n),
        "entity": compare("entity neighbours", lambda g, i: entity(graph, customers[i % len(customers)], groups=g),
                          args.n),
        "paths": compare("paths (max 3 hops)", lambda g, i: paths(
            graph, *pairs[i % len(pairs)], max_hops=3, groups=g), args.n),
        "experts": compare("experts (q)", lambda g, i: ExpertFinder(graph, search, groups=g).find(
            ExpertQuery(q=q(i), k=5)), max(5, args.n // 5)),
    }
    graph.close()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
