"""Fit the forum weights of kcrm's expert ranking on the validation windows only.

Two protocols, both before the test questions (after each source's 80% cut, which this script
never reads): rolling (queries between the 40% and 80% cuts, each ranked from every post before
it) and fixed cut (history before the 60% cut, queries between the 60% and 80% cuts). A grid over
the "product" combination (evidence exponent, relevance temperature, evidence and prior
half-lives) is scored by the mean MRR@10 of the two; the best becomes
`kcrm.kg.expert_scoring.FORUM_WEIGHTS`, which `kcrm eval experts` then reports on the test questions.

    .venv/bin/python benchmarks/expert_tuning.py [--dataset ../shared/data/expert_finding_forums] [--json FILE]
        [--no-grid]  (only FORUM_WEIGHTS, its ablations and the ranking before issue 19)
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from kcrm.evaluation.experts import (
    BM25,
    PREVIOUS_ROLLING_WEIGHTS,
    PREVIOUS_WEIGHTS,
    SplitData,
    history_before,
    kcrm_ranker,
    read_dataset,
    reciprocal_rank,
    solved_cut,
    window_queries,
)
from kcrm.kg.expert_scoring import FORUM_WEIGHTS, Weights

# Narrowed from a wider scratch search on the same validation windows (evidence half-life 365 days and
# temperatures 0.05 and 0.5 never did better); about 20 s per point on a busy 2-core machine.
GRID: dict[str, list[Any]] = {"text_exponent": [0.1, 0.25, 0.5, 1.0], "relevance_temperature": [0.1, 0.2],
                              "prior_half_life_days": [7.0, 30.0]}
ROLLING, FIXED = (0.4, 0.8), (0.6, 0.8)

Case = tuple[dict[str, Any], SplitData, BM25, BM25]


def validation_cases(posts: list[dict[str, Any]], qrels: list[dict[str, Any]], limit: int = 0) -> dict[str, list[Case]]:
    """(query, history, index with answers, index of questions alone) per protocol, validation only
    (the first `limit` queries per source and protocol when it is not 0: a smoke run)."""
    out: dict[str, list[Case]] = {"rolling": [], "fixed": []}
    for source in sorted({q["source"] for q in qrels}):
        lo, hi = solved_cut(source, qrels, ROLLING[0]), solved_cut(source, qrels, ROLLING[1])
        window = window_queries(source, posts, qrels, lo, hi)
        for query in window[:limit] if limit else window:
            data = history_before(source, posts, query["at"])
            out["rolling"].append((query, data, data.index(True), data.index(False)))
        cut = solved_cut(source, qrels, FIXED[0])
        data = history_before(source, posts, cut)
        with_answers, questions = data.index(True), data.index(False)
        window = window_queries(source, posts, qrels, cut, hi)
        for query in window[:limit] if limit else window:
            out["fixed"].append((query, data, with_answers, questions))
    return out


def mrr(cases: list[Case], weights: Weights, with_answers: bool = True, standing: bool = False) -> float:
    """MRR@10 of kcrm's ranking with `weights` over `cases`."""
    rr = [reciprocal_rank(kcrm_ranker(data, weights, index=full if with_answers else questions, standing=standing)(q),
                          q["expert"]) for q, data, full, questions in cases]
    return sum(rr) / len(rr) if rr else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/expert_finding_forums"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-grid", action="store_true", help="Score the chosen weights and ablations only.")
    parser.add_argument("--limit", type=int, default=0, help="Only the first N validation queries per source.")
    args = parser.parse_args()
    posts, qrels = read_dataset(args.dataset)
    cases = validation_cases(posts, qrels, args.limit)
    ablations = {name: (mrr(cases["rolling"], w), mrr(cases["fixed"], w)) for name, w in
                 (("text alone", replace(FORUM_WEIGHTS, prior=0.0)),
                  ("activity alone", replace(FORUM_WEIGHTS, text_exponent=0.0)))}
    for name, (rolling, fixed) in ablations.items():
        print(f"ablation {name}: rolling {rolling:.4f} fixed {fixed:.4f}")
    results = []
    for values in itertools.product(*GRID.values()) if not args.no_grid else ():
        chosen = dict(zip(GRID, values))
        for with_answers in (True, False):
            weights = replace(FORUM_WEIGHTS, **chosen)
            rolling, fixed = mrr(cases["rolling"], weights, with_answers), mrr(cases["fixed"], weights, with_answers)
            results.append(((rolling + fixed) / 2, rolling, fixed, {**chosen, "with_answers": with_answers}))
    results.sort(key=lambda r: -r[0])
    current = (mrr(cases["rolling"], FORUM_WEIGHTS), mrr(cases["fixed"], FORUM_WEIGHTS))
    before = (mrr(cases["rolling"], PREVIOUS_ROLLING_WEIGHTS, False, True), mrr(cases["fixed"], PREVIOUS_WEIGHTS, False))
    print(f"{len(cases['rolling'])} rolling and {len(cases['fixed'])} fixed-cut validation queries")
    print(f"FORUM_WEIGHTS: rolling {current[0]:.4f} fixed {current[1]:.4f}; "
          f"before issue 19: rolling {before[0]:.4f} fixed {before[1]:.4f}")
    for mean, rolling, fixed, weights in results[:15]:
        print(f"{mean:.4f}  rolling {rolling:.4f} fixed {fixed:.4f}  {weights}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"queries": {k: len(v) for k, v in cases.items()},
                                         "current": current, "before": before, "ablations": ablations,
                                         "current_weights": asdict(FORUM_WEIGHTS),
                                         "ranked": [{"mean": m, "rolling": r, "fixed": f, **w}
                                                    for m, r, f, w in results]}, indent=2))


if __name__ == "__main__":
    main()
