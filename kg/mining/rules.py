"""Association rules (support, confidence, lift) by Apriori over bit-packed transaction sets.

Apriori level by level: k-itemsets are joined from (k-1)-itemsets sharing a prefix, pruned when
any (k-1)-subset is infrequent, and counted by AND-ing the parents' packed transaction bitmaps
(one bit per basket), so each candidate costs n/8 bytes of work instead of a scan of the
baskets. Rules have a single item as consequent and a non-empty antecedent, as arules'
`apriori(..., minlen=2)` produces them: the settings behind the published 463 rules on the
groceries data. `count_itemsets_naive` is the slow reference the tests and benchmark compare to.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from kcrm.foundation.errors import MiningInputError

log = logging.getLogger(__name__)

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@dataclass(frozen=True)
class Rule:
    """antecedent => consequent, with the share of baskets holding both (support)."""

    antecedent: tuple[str, ...]
    consequent: tuple[str, ...]
    support: float
    confidence: float
    lift: float
    count: int

    def as_dict(self) -> dict[str, object]:
        return {"antecedent": list(self.antecedent), "consequent": list(self.consequent),
                "support": self.support, "confidence": self.confidence, "lift": self.lift, "count": self.count}


@dataclass(frozen=True)
class FrequentItemsets:
    """Every itemset whose support count reaches `min_count`, keyed by sorted item tuple."""

    counts: dict[tuple[str, ...], int]
    n_baskets: int
    n_items: int
    min_count: int


def min_count_for(min_support: float, n_baskets: int) -> int:
    """The smallest basket count whose share reaches `min_support` (robust to float rounding)."""
    if not 0 < min_support <= 1:
        raise MiningInputError(f"min support must be in (0, 1], got {min_support}")
    return max(1, math.ceil(min_support * n_baskets - 1e-9))


def _popcount(bits: np.ndarray) -> int:
    if hasattr(np, "bitwise_count"):
        return int(np.bitwise_count(bits).sum(dtype=np.int64))
    return int(_POPCOUNT[bits].sum(dtype=np.int64))


def frequent_itemsets(baskets: Sequence[Sequence[str]], min_support: float,
                      max_len: int | None = None) -> FrequentItemsets:
    """All frequent itemsets (up to `max_len` items) of `baskets` by Apriori."""
    if not baskets:
        raise MiningInputError("no baskets to mine")
    n = len(baskets)
    min_count = min_count_for(min_support, n)
    item_counts = Counter(item for basket in baskets for item in set(basket))
    items = sorted(item for item, count in item_counts.items() if count >= min_count)
    index = {item: k for k, item in enumerate(items)}
    matrix = np.zeros((len(items), n), dtype=bool)
    for row, basket in enumerate(baskets):
        for item in basket:
            k = index.get(item)
            if k is not None:
                matrix[k, row] = True
    bits = np.packbits(matrix, axis=1)
    level: dict[tuple[int, ...], np.ndarray] = {(k,): bits[k] for k in range(len(items))}
    found: dict[tuple[int, ...], int] = {(k,): item_counts[item] for k, item in enumerate(items)}
    size = 1
    while level and (max_len is None or size < max_len):
        level = _next_level(level, min_count, found)
        size += 1
    counts = {tuple(items[k] for k in key): count for key, count in found.items()}
    log.debug("%d frequent itemsets over %d items, %d baskets", len(counts), len(item_counts), n)
    return FrequentItemsets(counts=counts, n_baskets=n, n_items=len(item_counts), min_count=min_count)


def _next_level(level: dict[tuple[int, ...], np.ndarray], min_count: int,
                found: dict[tuple[int, ...], int]) -> dict[tuple[int, ...], np.ndarray]:
    """Frequent (k+1)-itemsets from the frequent k-itemsets (join, prune, count)."""
    keys = sorted(level)
    following: dict[tuple[int, ...], np.ndarray] = {}
    for i, left in enumerate(keys):
        for right in keys[i + 1:]:
            if left[:-1] != right[:-1]:
                break
            candidate = left + (right[-1],)
            if any(candidate[:j] + candidate[j + 1:] not in level for j in range(len(candidate) - 2)):
                continue
            joint = level[left] & level[right]
            count = _popcount(joint)
            if count >= min_count:
                following[candidate] = joint
                found[candidate] = count
    return following


def count_itemsets_naive(baskets: Sequence[Sequence[str]], min_support: float) -> dict[tuple[str, ...], int]:
    """The reference: count every k-subset of every basket, k = 1, 2, ... until none is frequent."""
    min_count = min_count_for(min_support, len(baskets))
    sorted_baskets = [sorted(set(basket)) for basket in baskets]
    result: dict[tuple[str, ...], int] = {}
    size = 1
    while True:
        counts: Counter[tuple[str, ...]] = Counter()
        for basket in sorted_baskets:
            counts.update(combinations(basket, size))
        frequent = {key: count for key, count in counts.items() if count >= min_count}
        if not frequent:
            return result
        result.update(frequent)
        size += 1


def generate_rules(itemsets: FrequentItemsets, min_confidence: float) -> list[Rule]:
    """Rules X => y from each frequent itemset of two or more items, sorted by lift (then confidence)."""
    if not 0 <= min_confidence <= 1:
        raise MiningInputError(f"min confidence must be in [0, 1], got {min_confidence}")
    n = itemsets.n_baskets
    counts = itemsets.counts
    rules = []
    for itemset, count in counts.items():
        if len(itemset) < 2:
            continue
        for j, item in enumerate(itemset):
            antecedent = itemset[:j] + itemset[j + 1:]
            confidence = count / counts[antecedent]
            if confidence + 1e-12 < min_confidence:
                continue
            lift = confidence / (counts[(item,)] / n)
            rules.append(Rule(antecedent, (item,), count / n, confidence, lift, count))
    return sort_rules(rules)


def sort_rules(rules: list[Rule]) -> list[Rule]:
    """Highest lift first; ties by confidence, support, then the items (a stable, total order)."""
    return sorted(rules, key=lambda r: (-r.lift, -r.confidence, -r.support, r.antecedent, r.consequent))


def mine_rules(baskets: Sequence[Sequence[str]], min_support: float, min_confidence: float,
               max_len: int | None = None) -> tuple[FrequentItemsets, list[Rule]]:
    """Frequent itemsets and the rules they give, in one call."""
    itemsets = frequent_itemsets(baskets, min_support, max_len=max_len)
    return itemsets, generate_rules(itemsets, min_confidence)


def format_rule(rule: Rule) -> str:
    """One line for a terminal: {a, b} => {c}  support  confidence  lift."""
    return (f"{{{', '.join(rule.antecedent)}}} => {{{', '.join(rule.consequent)}}}  "
            f"support {rule.support:.4f}  confidence {rule.confidence:.3f}  lift {rule.lift:.3f}")


def rules_document(itemsets: FrequentItemsets, rules: list[Rule], min_support: float,
                   min_confidence: float) -> dict[str, object]:
    """The JSON form `kcrm mine rules --json` writes: the settings, the sizes and every rule."""
    return {"baskets": itemsets.n_baskets, "items": itemsets.n_items, "frequent_itemsets": len(itemsets.counts),
            "min_support": min_support, "min_confidence": min_confidence, "min_count": itemsets.min_count,
            "rule_count": len(rules), "rules": [rule.as_dict() for rule in rules]}
