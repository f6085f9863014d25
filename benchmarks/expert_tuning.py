"""Choose the forum weights of kcrm's expert ranking on the validation window only.

Rolling protocol (see `kcrm.eval_experts.evaluate_rolling`): validation queries are those asked
between the 40% and 80% cuts of each source's solved questions, each ranked from every post before
it. The test queries (after the 80% cut) are never looked at here; `kcrm eval experts` reports them.

    .venv/bin/python benchmarks/expert_tuning.py [--dataset ../shared/data/expert_finding_forums] [--json FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import asdict, replace
from pathlib import Path

from kcrm.eval_experts import (
    BM25,
    FORUM_WEIGHTS,
    ROLLING_STANDING,
    ROLLING_WEIGHTS,
    history_before,
    kcrm_ranker,
    read_dataset,
    reciprocal_rank,
    solved_cut,
    term_counts,
    window_queries,
)

GRID = {"half_life_days": [30.0, 90.0], "prior": [0.5, 1.0], "skill": [0.3, 1.0, 2.0],
        "relevance_temperature": [0.2, 0.5], "standing": [False, True]}
VALIDATION = (0.4, 0.8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/expert_finding_forums"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="Only the first N validation queries per source.")
    args = parser.parse_args()
    posts, qrels = read_dataset(args.dataset)
    cases = []
    for source in sorted({q["source"] for q in qrels}):
        lo, hi = solved_cut(source, qrels, VALIDATION[0]), solved_cut(source, qrels, VALIDATION[1])
        window = window_queries(source, posts, qrels, lo, hi)
        for query in window[:args.limit] if args.limit else window:
            data = history_before(source, posts, query["at"])
            index = BM25({}, counts={t: term_counts(text) for t, text in data.threads.items()})
            cases.append((query, data, index))
    results = []
    def mrr(weights, standing: bool) -> float:
        rr = [reciprocal_rank(kcrm_ranker(data, weights, index=index, standing=standing)(q), q["expert"])
              for q, data, index in cases]
        return sum(rr) / len(rr)

    for values in itertools.product(*GRID.values()):
        chosen = dict(zip(GRID, values))
        standing = chosen.pop("standing")
        results.append((mrr(replace(FORUM_WEIGHTS, **chosen), standing), {**chosen, "standing": standing}))
    results.sort(key=lambda r: -r[0])
    current = mrr(ROLLING_WEIGHTS, ROLLING_STANDING)
    print(f"{len(cases)} validation queries; ROLLING_WEIGHTS MRR@10 {current:.4f}; "
          f"the fixed-cut FORUM_WEIGHTS {mrr(FORUM_WEIGHTS, False):.4f}")
    for mrr, weights in results[:10]:
        print(f"{mrr:.4f}  {weights}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"validation_queries": len(cases), "current": current,
                                         "current_weights": asdict(ROLLING_WEIGHTS),
                                         "ranked": [{"mrr@10": m, **w} for m, w in results]}, indent=2))


if __name__ == "__main__":
    main()
