"""Ranking quality measures as BEIR and trec_eval define them.

Graded judgments (`qrels`: document id -> grade, grade > 0 is relevant). nDCG uses linear gain
(grade / log2(rank + 1)), as trec_eval's ndcg_cut and BEIR do; MRR is the reciprocal rank of the
first relevant hit within the cut-off; recall is the share of relevant documents retrieved. A
query without any relevant document is left out of the means, as trec_eval does. Expert finding has one
relevant item per query: `reciprocal_rank` and `precision_at` score a ranking against it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain of grades in rank order (rank 1 undiscounted)."""
    return sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k of one ranking against one query's judgments (0.0 when nothing is relevant)."""
    ideal = dcg(sorted((g for g in judged.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    seen: set[str] = set()
    gains = []
    for doc in ranked[:k]:
        gains.append(max(judged.get(doc, 0), 0) if doc not in seen else 0)
        seen.add(doc)
    return dcg(gains) / ideal


def mrr_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    """1 / rank of the first relevant document within the top k, else 0."""
    for rank, doc in enumerate(ranked[:k], start=1):
        if judged.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def recall_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int = 100) -> float:
    """Share of the relevant documents found in the top k (0.0 when nothing is relevant)."""
    relevant = {doc for doc, grade in judged.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def reciprocal_rank(ranking: Sequence[str], relevant: str, cutoff: int = 10) -> float:
    """1/rank of the relevant expert within the first `cutoff`, else 0."""
    for i, uid in enumerate(ranking[:cutoff], start=1):
        if uid == relevant:
            return 1.0 / i
    return 0.0


def precision_at(ranking: Sequence[str], relevant: str, k: int) -> float:
    """Share of the first k that are relevant (one relevant expert per query)."""
    return (1.0 if relevant in ranking[:k] else 0.0) / k


def evaluate(run: Run, qrels: Qrels) -> dict[str, float]:
    """Mean nDCG@10, MRR@10 and Recall@100 over the judged queries with a relevant document.

    A judged query missing from `run` counts as an empty ranking (it scores 0), never skipped.
    """
    queries = [q for q, judged in qrels.items() if any(g > 0 for g in judged.values())]
    if not queries:
        raise ValueError("no query has a relevant document: nothing to evaluate")
    totals = {"ndcg@10": 0.0, "mrr@10": 0.0, "recall@100": 0.0}
    for query in queries:
        ranked, judged = run.get(query, []), qrels[query]
        totals["ndcg@10"] += ndcg_at_k(ranked, judged, 10)
        totals["mrr@10"] += mrr_at_k(ranked, judged, 10)
        totals["recall@100"] += recall_at_k(ranked, judged, 100)
    return {name: value / len(queries) for name, value in totals.items()}
