"""Customer value: recency, frequency and monetary (RFM) scores, a value tier and loyalty.

Scores are quintiles over the customer base (1 = bottom fifth, 5 = top fifth; ties share a
score), so they mean the same on any data set. The tier follows the summed score; loyal customers
buy often, recently, and have done so for at least a year, which is what lets a touchpoint
recognise them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy.stats import rankdata

from kcrm.kg.mining.history import Order

# (tier, lowest R+F+M score), best first
TIERS: tuple[tuple[str, int], ...] = (("platinum", 13), ("gold", 10), ("silver", 7), ("bronze", 3))
LOYAL_MIN_FREQUENCY_SCORE = 4
LOYAL_MIN_RECENCY_SCORE = 3
LOYAL_MIN_TENURE_DAYS = 365


@dataclass(frozen=True)
class CustomerValue:
    """RFM facts and scores of one customer as of a given time."""

    customer: str
    recency_days: int
    frequency: int
    monetary: float
    recency_score: int
    frequency_score: int
    monetary_score: int
    tenure_days: int

    @property
    def rfm_score(self) -> int:
        return self.recency_score + self.frequency_score + self.monetary_score

    @property
    def tier(self) -> str:
        return next(name for name, low in TIERS if self.rfm_score >= low)

    @property
    def loyal(self) -> bool:
        return (self.frequency_score >= LOYAL_MIN_FREQUENCY_SCORE and self.recency_score >= LOYAL_MIN_RECENCY_SCORE
                and self.tenure_days >= LOYAL_MIN_TENURE_DAYS)


def quintile_scores(values: list[float]) -> list[int]:
    """1-5 by percentile rank, higher value = higher score; equal values get equal scores."""
    if not values:
        return []
    pct = rankdata(np.asarray(values, dtype=float), method="average") / len(values)
    return [min(5, max(1, math.ceil(5 * p - 1e-9))) for p in pct]


def customer_values(orders_by_customer: dict[str, list[Order]], as_of: datetime) -> dict[str, CustomerValue]:
    """RFM over each customer's orders up to `as_of` (customers with no such order are left out)."""
    facts = []
    for customer, orders in sorted(orders_by_customer.items()):
        past = [o for o in orders if o.at <= as_of]
        if past:
            facts.append((customer, (as_of - past[-1].at).days, len(past), sum(o.amount for o in past),
                          (as_of - past[0].at).days))
    r_scores = quintile_scores([-days for _, days, _, _, _ in facts])
    f_scores = quintile_scores([float(freq) for _, _, freq, _, _ in facts])
    m_scores = quintile_scores([money for _, _, _, money, _ in facts])
    return {
        customer: CustomerValue(customer, days, freq, round(money, 2), r, f, m, tenure)
        for (customer, days, freq, money, tenure), r, f, m in zip(facts, r_scores, f_scores, m_scores, strict=True)
    }
