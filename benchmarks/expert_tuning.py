"""Fit the forum weights of kcrm's expert ranking on the validation windows only.

Two protocols, both before the test questions (after each source's 80% cut, which this script
never reads): rolling (queries between the 40% and 80% cuts, each ranked from every post before
it) and fixed cut (history before the 60% cut, queries between the 60% and 80% cuts). A grid over
the "product" combination (evidence exponent, relevance temperature) is scored by the mean MRR@10
of the two, beside `kcrm.kg.expert_scoring.FORUM_WEIGHTS`, which `kcrm eval experts` then reports on
the test questions.

`--fit` (the learned combination): every solved question between the 20% and 80% cuts, each from every
post before it, split in time into three folds (20-40%, 40-60%, 60-80%). Each family of log-linear
models (which activity priors, with or without the text evidence) is fitted as a conditional logit on
two folds and scored on the third; the family and penalty with the best mean MRR@10 are fitted again
on all three folds, and those exponents are `FORUM_WEIGHTS.prior_mix` and `text_exponent`.

    .venv/bin/python benchmarks/expert_tuning.py [--dataset ../shared/data/expert_finding_forums] [--json FILE]
        [--no-grid]  (only FORUM_WEIGHTS, its ablations and the ranking before issue 19)
        [--fit]      (the learned combination instead of the grid)
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from kcrm.evaluation.experts import (
    PREVIOUS_ROLLING_WEIGHTS,
    PREVIOUS_WEIGHTS,
    SplitData,
    fit_log_linear,
    history_before,
    kcrm_ranker,
    kcrm_scorer,
    log_features,
    read_dataset,
    reciprocal_rank,
    solved_cut,
    window_queries,
)
from kcrm.kg.expert_scoring import FORUM_WEIGHTS, Weights, activity_alone, text_alone
from kcrm.search.lexical import MemoryBM25

# The grid (the search before the learned combination) varies the evidence around FORUM_WEIGHTS: its
# exponent and the relevance temperature (the activity priors are `prior_mix`'s, fitted by `--fit`).
# About 20 s per point on a busy 2-core machine.
GRID: dict[str, list[Any]] = {"text_exponent": [0.1, 0.147, 0.26, 0.5, 1.0], "relevance_temperature": [0.1, 0.2]}
ROLLING, FIXED = (0.4, 0.8), (0.6, 0.8)

Case = tuple[dict[str, Any], SplitData, MemoryBM25, MemoryBM25]
# The learned combination: the families of log-linear models compared (activity priors by half-life in
# days, with or without the text evidence) and the penalties; folds are the windows between these cuts.
FAMILIES: dict[str, tuple[tuple[float, ...], bool]] = {
    "prior 7d + text (the form before)": ((7.0,), True), "priors 1/7/30/90d": ((1.0, 7.0, 30.0, 90.0), False),
    "priors 1/7/30/90d + text": ((1.0, 7.0, 30.0, 90.0), True), "priors 1/30d + text": ((1.0, 30.0), True),
    "priors 7/30d + text": ((7.0, 30.0), True)}
PENALTIES = (0.01, 0.1)
FOLDS = (0.2, 0.4, 0.6, 0.8)
# Families whose mean fold MRR@10 is within this of the best count as level; among level ones the
# one with the text evidence is kept (the product must explain its answer with evidence, and on
# forums where people specialise the text is what finds them).
LEVEL = 0.005


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


def fold_features(posts: list[dict[str, Any]], qrels: list[dict[str, Any]], half_lives: tuple[float, ...],
                  limit: int = 0) -> list[list[tuple[dict[str, list[float]], str]]]:
    """Per fold (between consecutive `FOLDS` cuts), per query: log features of every candidate
    (`log_features` over `kcrm_scorer` with priors at `half_lives`, text last) and the expert."""
    weights = replace(FORUM_WEIGHTS, prior_mix=tuple((h, 1.0) for h in half_lives))
    folds: list[list[tuple[dict[str, list[float]], str]]] = [[] for _ in FOLDS[1:]]
    for source in sorted({q["source"] for q in qrels}):
        for i, (lo, hi) in enumerate(zip(FOLDS, FOLDS[1:])):
            window = window_queries(source, posts, qrels, solved_cut(source, qrels, lo), solved_cut(source, qrels, hi))
            for query in window[:limit] if limit else window:
                data = history_before(source, posts, query["at"])
                folds[i].append((log_features(kcrm_scorer(data, weights)(query)), query["expert"]))
    return folds


def _select(features: dict[str, list[float]], columns: list[int]) -> dict[str, list[float]]:
    return {a: [row[c] for c in columns] for a, row in features.items()}


def _fold_mrr(cases: list[tuple[dict[str, list[float]], str]], w: list[float]) -> float:
    rr = []
    for feats, expert in cases:
        score = {a: sum(x * v for x, v in zip(row, w, strict=True)) for a, row in feats.items()}
        rr.append(reciprocal_rank(sorted(score, key=lambda a: (-score[a], a)), expert))
    return sum(rr) / len(rr) if rr else 0.0


def _fit(cases: list[tuple[dict[str, list[float]], str]], l2: float) -> list[float]:
    rows = [(list(f.values()), list(f).index(e) if e in f else -1) for f, e in cases]
    return fit_log_linear(rows, l2)


def learned_combination(posts: list[dict[str, Any]], qrels: list[dict[str, Any]], limit: int = 0) -> dict[str, Any]:
    """Fold-by-fold MRR@10 of each family and penalty (and of FORUM_WEIGHTS' form unfitted), the choice,
    and the choice's exponents fitted on all folds."""
    half_lives = tuple(sorted({h for hs, _ in FAMILIES.values() for h in hs}))
    folds = fold_features(posts, qrels, half_lives, limit)
    text = len(half_lives)
    table: dict[str, dict[str, Any]] = {}
    for name, (hs, with_text) in FAMILIES.items():
        columns = [half_lives.index(h) for h in hs] + ([text] if with_text else [])
        picked = [[(_select(f, columns), e) for f, e in fold] for fold in folds]
        for l2 in PENALTIES:
            scores = [_fold_mrr(picked[i], _fit([c for j in range(len(picked)) if j != i for c in picked[j]], l2))
                      for i in range(len(picked))]
            table[f"{name}, l2 {l2}"] = {"family": name, "l2": l2, "folds": scores, "mean": sum(scores) / len(scores),
                                        "half_lives": hs, "text": with_text,
                                        "exponents": _fit([c for fold in picked for c in fold], l2)}
    for h in (7.0, 30.0):  # the activity priors alone, unfitted (what the bar is measured against)
        column = [half_lives.index(h)]
        scores = [_fold_mrr([(_select(f, column), e) for f, e in fold], [1.0]) for fold in folds]
        table[f"activity {h:g}d alone (unfitted)"] = {"folds": scores, "mean": sum(scores) / len(scores)}
    fitted = {k: v for k, v in table.items() if "family" in v}
    best = max(v["mean"] for v in fitted.values())
    level = [k for k, v in fitted.items() if v["mean"] >= best - LEVEL]
    chosen = max(level, key=lambda k: (fitted[k]["text"], fitted[k]["mean"]))
    return {"queries": [len(f) for f in folds], "table": table, "chosen": chosen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/expert_finding_forums"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-grid", action="store_true", help="Score the chosen weights and ablations only.")
    parser.add_argument("--limit", type=int, default=0, help="Only the first N validation queries per source.")
    parser.add_argument("--fit", action="store_true", help="Fit the learned combination (conditional logit) by folds.")
    args = parser.parse_args()
    posts, qrels = read_dataset(args.dataset)
    if args.fit:
        learned = learned_combination(posts, qrels, args.limit)
        print(f"folds (queries): {learned['queries']}")
        for name, row in learned["table"].items():
            print(f"{row['mean']:.4f}  folds {' '.join(f'{v:.4f}' for v in row['folds'])}  {name}"
                  + (f"  exponents {[round(v, 3) for v in row['exponents']]}" if "exponents" in row else ""))
        print(f"chosen: {learned['chosen']}")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(learned, indent=2))
        return
    cases = validation_cases(posts, qrels, args.limit)
    ablations = {name: (mrr(cases["rolling"], w), mrr(cases["fixed"], w)) for name, w in
                 (("text alone", text_alone(FORUM_WEIGHTS)), ("activity alone", activity_alone(FORUM_WEIGHTS)))}
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
