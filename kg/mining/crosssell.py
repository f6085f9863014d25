"""Cross-sell: what customers like this one buy that this one has not bought yet.

Each customer's basket is the set of products they ever bought. Association rules over these
baskets (`rules.mine_rules`) say "customers who own X (and Y) also own Z"; a customer who owns
the antecedent but not Z gets Z recommended, scored by the best such rule's confidence (ties by
lift). Only rules with lift above 1 count: Z must be more likely with X than without it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kcrm.kg.mining.history import Order
from kcrm.kg.mining.rules import Rule, mine_rules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recommendation:
    """A product for a customer, the rule that justifies it, and its score (the rule's confidence)."""

    customer: str
    product: str
    score: float
    confidence: float
    lift: float
    support: float
    because: tuple[str, ...]

    def reason(self, names: dict[str, str] | None = None) -> str:
        """Plain words, with product names when given."""
        names = names or {}
        owned = ", ".join(names.get(p, p) for p in self.because)
        return (f"{100 * self.confidence:.0f}% of customers who bought {owned} also bought "
                f"{names.get(self.product, self.product)} (lift {self.lift:.2f})")


def customer_baskets(orders_by_customer: dict[str, list[Order]]) -> dict[str, set[str]]:
    """Every product each customer ever bought."""
    return {customer: {p for order in orders for p in order.products}
            for customer, orders in orders_by_customer.items()}


def recommend(baskets: dict[str, set[str]], min_support: float = 0.05, min_confidence: float = 0.3,
              per_customer: int = 5, max_len: int = 3) -> tuple[list[Rule], dict[str, list[Recommendation]]]:
    """The rules mined over customers' baskets and up to `per_customer` recommendations each."""
    customers = sorted(c for c, basket in baskets.items() if basket)
    if not customers:
        return [], {}
    _, rules = mine_rules([sorted(baskets[c]) for c in customers], min_support, min_confidence, max_len=max_len)
    useful = [r for r in rules if r.lift > 1.0]
    by_consequent: dict[str, list[Rule]] = {}
    for rule in useful:
        by_consequent.setdefault(rule.consequent[0], []).append(rule)
    result: dict[str, list[Recommendation]] = {}
    for customer in customers:
        owned = baskets[customer]
        best: list[Recommendation] = []
        for product, candidates in by_consequent.items():
            if product in owned:
                continue
            fitting = [r for r in candidates if set(r.antecedent) <= owned]
            if fitting:
                rule = max(fitting, key=lambda r: (r.confidence, r.lift, r.support, -len(r.antecedent)))
                best.append(Recommendation(customer, product, round(rule.confidence, 4), rule.confidence, rule.lift,
                                           rule.support, rule.antecedent))
        best.sort(key=lambda r: (-r.score, -r.lift, r.product))
        if best:
            result[customer] = best[:per_customer]
    log.info("cross-sell: %d rules (lift > 1), recommendations for %d of %d customers", len(useful), len(result),
             len(customers))
    return useful, result
