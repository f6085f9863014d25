"""Combine ranked lists from different retrievers into one.

Reciprocal rank fusion (Cormack et al. 2009) is the baseline: it needs no score calibration,
since BM25 scores and cosines live on different scales. Score fusion (min-max normalised,
weighted sum) is the alternative `kcrm eval search` measures against it; weights are chosen on
a development split, never on the test queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kcrm.search.bilingual_embedder import is_chinese

# One retriever's result: (item id, score), best first.
Ranking = Sequence[tuple[str, float]]

RRF_K = 60


class Fusion(Protocol):
    """Merges several rankings of the same query into one, best first."""

    name: str
    weights: tuple[float, ...] | None  # per ranking (lexical, dense); None: equal

    def fuse(self, rankings: Sequence[Ranking]) -> list[tuple[str, float]]:
        """The fused ranking: every id from any input, with its fused score."""
        ...

    def ceiling(self, n: int) -> float:
        """The best fused score possible over `n` rankings (first in all), to scale scores to [0, 1]."""
        ...

    def for_query(self, query: str) -> Fusion:
        """The fusion to apply to this query's rankings (a policy may pick one by the query's language)."""
        ...


def _check_weights(weights: Sequence[float] | None, n: int) -> Sequence[float]:
    if weights is None:
        return [1.0] * n
    if len(weights) != n:
        raise ValueError(f"{len(weights)} weights for {n} rankings")
    if any(w < 0 for w in weights):
        raise ValueError("fusion weights must not be negative")
    return weights


def _sorted(scores: dict[str, float], first_seen: dict[str, int]) -> list[tuple[str, float]]:
    """Best first; ties keep the order in which ids first appeared (deterministic)."""
    return sorted(scores.items(), key=lambda item: (-item[1], first_seen[item[0]]))


def reciprocal_rank_fusion(rankings: Sequence[Ranking], k: int = RRF_K,
                           weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
    """Sum over rankings of weight / (k + rank), rank starting at 1; ids missing from a list get 0."""
    if k < 0:
        raise ValueError("the RRF constant k must not be negative")
    weights = _check_weights(weights, len(rankings))
    scores: dict[str, float] = {}
    first_seen: dict[str, int] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, (item, _) in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            first_seen.setdefault(item, len(first_seen))
    return _sorted(scores, first_seen)


def min_max(ranking: Ranking) -> list[tuple[str, float]]:
    """Scores rescaled to [0, 1] within the list (all equal -> all 1)."""
    if not ranking:
        return []
    values = [score for _, score in ranking]
    low, high = min(values), max(values)
    span = high - low
    return [(item, (score - low) / span if span > 0 else 1.0) for item, score in ranking]


def score_fusion(rankings: Sequence[Ranking], weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
    """Weighted sum of min-max normalised scores; an id absent from a list scores 0 there."""
    weights = _check_weights(weights, len(rankings))
    scores: dict[str, float] = {}
    first_seen: dict[str, int] = {}
    for ranking, weight in zip(rankings, weights):
        for item, score in min_max(ranking):
            scores[item] = scores.get(item, 0.0) + weight * score
            first_seen.setdefault(item, len(first_seen))
    return _sorted(scores, first_seen)


@dataclass(frozen=True)
class RRF:
    """Reciprocal rank fusion with constant `k` and optional per-retriever weights."""

    k: int = RRF_K
    weights: tuple[float, ...] | None = None

    @property
    def name(self) -> str:
        weights = "" if self.weights is None else ",w=" + "/".join(f"{w:g}" for w in self.weights)
        return f"rrf(k={self.k}{weights})"

    def fuse(self, rankings: Sequence[Ranking]) -> list[tuple[str, float]]:
        """See `reciprocal_rank_fusion`."""
        return reciprocal_rank_fusion(rankings, self.k, self.weights)

    def ceiling(self, n: int) -> float:
        """Sum of weights / (k + 1)."""
        return sum(_check_weights(self.weights, n)) / (self.k + 1)

    def for_query(self, query: str) -> Fusion:
        """The same fusion for every query."""
        return self  # type: ignore[return-value]  # `name` is a property here, a plain attribute in the protocol


@dataclass(frozen=True)
class ScoreFusion:
    """Min-max normalised, weighted score sum."""

    weights: tuple[float, ...] | None = None

    @property
    def name(self) -> str:
        weights = "" if self.weights is None else "w=" + "/".join(f"{w:g}" for w in self.weights)
        return f"minmax({weights})"

    def fuse(self, rankings: Sequence[Ranking]) -> list[tuple[str, float]]:
        """See `score_fusion`."""
        return score_fusion(rankings, self.weights)

    def ceiling(self, n: int) -> float:
        """Sum of weights (each list's best scores 1 after min-max)."""
        return float(sum(_check_weights(self.weights, n)))

    def for_query(self, query: str) -> Fusion:
        """The same fusion for every query."""
        return self  # type: ignore[return-value]  # `name` is a property here, a plain attribute in the protocol


@dataclass(frozen=True)
class LanguageFusion:
    """A weights policy: one fusion per query language, because the retrievers' strength differs.

    On English (SciFact) BM25 and the dense side are about equally strong; on short Chinese
    questions (AFQMC) bge-small-zh is far ahead of character-bigram BM25, so the dense side
    deserves more weight. Each language's fusion is chosen on that language's training queries
    (README "Chinese retrieval"); a query is Chinese by `is_chinese` (the embedder's own routing).
    Used alone (`fuse` without `for_query`) it behaves as its English fusion.
    """

    english: Fusion
    chinese: Fusion

    @property
    def name(self) -> str:
        return f"by-language(en={self.english.name},zh={self.chinese.name})"

    @property
    def weights(self) -> tuple[float, ...] | None:
        """The English fusion's weights (the per-query ones come with `for_query`)."""
        return self.english.weights

    def for_query(self, query: str) -> Fusion:
        """The Chinese fusion for a Chinese query, the English one for anything else."""
        return self.chinese if is_chinese(query) else self.english

    def fuse(self, rankings: Sequence[Ranking]) -> list[tuple[str, float]]:
        """The English fusion's result (callers that know the query use `for_query` first)."""
        return self.english.fuse(rankings)

    def ceiling(self, n: int) -> float:
        """The English fusion's ceiling."""
        return self.english.ceiling(n)
