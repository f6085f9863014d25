"""Does a collaboration-centrality prior help expert finding? Figures against the same ranking without it.

Forums (in memory): the answerer graph links two authors who answered the same thread, before the
cut. Validation = history before the 60% cut, queries between the 60% and 80% cuts; test = the
standard 80% split of `kcrm eval experts`. Sample (`--sample`, needs the loaded graph and index of
KCRM_DATA_DIR): held-out resolved cases, the projection rebuilt without the hidden cases'
RESOLVED_BY; validation seeds 1,2,3, test seed 7 (the seed `kcrm eval experts` uses).

    python benchmarks/analytics_prior.py --weights 0,0.05,0.1,0.2,0.3 [--sample]
"""

from __future__ import annotations

import argparse
import random
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import kcrm.evaluation.experts as ee
from kcrm.kg.analytics import (
    ABOUT_PRODUCT,
    AUTHORED,
    CASE,
    CUSTOMER,
    DOC,
    EMPLOYEE,
    HAS_TOPIC,
    PRODUCT,
    RAISED,
    RESOLVED_BY,
    TOPIC,
    Membership,
    analyse,
    normalised,
)
from kcrm.kg.expert_scoring import (
    Weights,
    normalise_scores,
    rank,
    relevance_from_scores,
)

FORUMS = Path(__file__).resolve().parents[2] / "shared" / "data" / "expert_finding_forums"
CASE_ROWS = f"""
MATCH (c:{CASE})-[:{RESOLVED_BY}]->(e:{EMPLOYEE}) WHERE c.status IN $done
CALL (c) {{ MATCH (x:{CUSTOMER})-[:{RAISED}]->(c) RETURN 'customer:' + x.uid AS ctx
  UNION MATCH (c)-[:{ABOUT_PRODUCT}]->(p:{PRODUCT}) RETURN 'product:' + p.uid AS ctx
  UNION MATCH (c)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN 'topic:' + t.uid AS ctx }}
RETURN c.uid AS case, e.uid AS employee, ctx
"""
DOC_ROWS = (f"MATCH (e:{EMPLOYEE})-[:{AUTHORED}]->(:{DOC})-[:{HAS_TOPIC}]->(t:{TOPIC}) "
            "RETURN e.uid AS employee, 'topic:' + t.uid AS ctx, count(*) AS n")


def _mean(values: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(v[0] for v in values) / len(values), sum(v[1] for v in values) / len(values)


def forums(weights: list[float], split: str, limit: int = 0) -> dict[float, tuple[float, float]]:
    """MRR@10 and P@1 of the forum kcrm ranking with each centrality weight."""
    posts, qrels = ee.read_dataset(FORUMS)
    out: dict[float, list[tuple[float, float]]] = defaultdict(list)
    for source in sorted({q["source"] for q in qrels}):
        data = ee.split_source(source, posts, qrels, 0.6 if split == "validation" else 0.8)
        if split == "validation":
            end = ee.split_source(source, posts, qrels, 0.8).cut
            data.queries = [q for q in data.queries if q["at"] < end]
        if limit:  # a smoke run: the first queries of each source
            data.queries = data.queries[:limit]
        central = normalised(analyse([Membership(p["author"], p["thread_id"]) for p in data.answers]).centrality)
        rankers = {w: ee.kcrm_ranker(data, replace(ee.PREVIOUS_WEIGHTS, centrality=w), central) for w in weights}
        for query in data.queries:
            for w, ranker in rankers.items():
                order = ranker(query)
                out[w].append((ee.reciprocal_rank(order, query["expert"]), ee.precision_at(order, query["expert"], 1)))
    return {w: _mean(v) for w, v in out.items()}


def sample(weights: list[float], seeds: list[int], limit: int = 0) -> dict[float, tuple[float, float]]:
    """MRR and P@5 on held-out sample cases with each centrality weight."""
    from kcrm import workflows
    from kcrm.evaluation.sample import RESOLVED_CASES_QUERY
    from kcrm.foundation.config import get_settings
    from kcrm.kg.experts import (
        DONE_STATUSES,
        SEARCH_DEPTH,
        ExpertFinder,
        associations_for,
    )
    from kcrm.search.service import load_search_service

    settings = get_settings()
    graph, searcher = workflows.open_graph(settings), load_search_service(settings)
    cases = graph.read(RESOLVED_CASES_QUERY, done=DONE_STATUSES)
    case_rows, doc_rows = graph.read(CASE_ROWS, done=DONE_STATUSES), graph.read(DOC_ROWS)
    finder = ExpertFinder(graph, searcher)
    _, base = finder.profiles()
    broader, now = finder.taxonomy(), datetime.now(UTC)
    out: dict[float, list[tuple[float, float]]] = defaultdict(list)
    for seed in seeds:
        hidden = {c["uid"] for c in random.Random(seed).sample(cases, max(1, round(len(cases) * 0.1)))}
        activity = Counter(c["resolver"] for c in cases if c["uid"] not in hidden)
        counts = Counter((r["employee"], r["ctx"]) for r in case_rows if r["case"] not in hidden)
        rows = [Membership(e, c, float(n)) for (e, c), n in counts.items()]
        rows += [Membership(r["employee"], r["ctx"], float(r["n"])) for r in doc_rows]
        central = normalised(analyse(rows, base).centrality)
        profiles = {u: replace(p, activity=float(activity[u]), centrality=central.get(u, 0.0)) for u, p in base.items()}
        held = [c for c in cases if c["uid"] in hidden]
        for case in held[:limit] if limit else held:
            hits = searcher.search(f"{case['title'] or ''} {case['description'] or ''}", k=SEARCH_DEPTH,
                                   types={CASE, DOC})
            raw = {h.uid: h.score for h in hits if h.uid != case["uid"]}
            items = finder.items(list(raw))
            for uid in hidden & items.keys():
                items[uid].experts = []
            topics = {u: i.topics for u, i in items.items()}
            for w in weights:
                wt = Weights(centrality=w)
                relevance = relevance_from_scores(normalise_scores(raw), wt.relevance_temperature)
                order = [e.expert for e in rank(relevance, associations_for(items, now, wt), topics, profiles,
                                                broader, wt)]
                out[w].append((ee.reciprocal_rank(order, case["resolver"], len(order)),
                               ee.precision_at(order, case["resolver"], 5)))
    graph.close()
    return {w: _mean(v) for w, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="0,0.05,0.1,0.2,0.3")
    parser.add_argument("--sample", action="store_true", help="also the held-out sample (loaded graph needed)")
    parser.add_argument("--limit", type=int, default=0, help="Only the first N queries per source and split (0: all).")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]
    for split in ("validation", "test"):
        figures = forums(weights, split, args.limit)
        for w, (mrr, p1) in figures.items():
            print(f"forums {split:<10} centrality={w:<5} MRR@10 {mrr:.4f} P@1 {p1:.4f} "
                  f"(x{mrr / figures[weights[0]][0]:.3f} MRR vs weight {weights[0]})")
    if args.sample:
        for split, seeds in (("validation", [1, 2, 3]), ("test", [7])):
            figures = sample(weights, seeds, args.limit)
            for w, (mrr, p5) in figures.items():
                print(f"sample {split:<10} centrality={w:<5} MRR {mrr:.4f} P@5 {p5:.4f} "
                      f"(x{mrr / figures[weights[0]][0]:.3f} MRR vs weight {weights[0]})")


if __name__ == "__main__":
    main()
