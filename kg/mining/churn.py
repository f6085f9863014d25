"""Churn warning by rules a person can check, and the features the predictive model learns from.

A customer is warned about when (a) no order came for over `lapsed_days` (lapsed), or the time
since the last order exceeds `overdue_factor` times their own usual interval between orders (the
median gap), or (b) their orders or spend in the
last `window_days` fell below `drop_ratio` of their earlier rate (orders: by at least
`min_drop_orders`, so that one order more or less is not a trend; spend: only for customers with
at least twice that many orders per window). Each warning carries a plain
reason string. The same per-customer history, cut at any date, gives the model's features, so
that training and scoring see exactly the same facts.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from kcrm.kg.mining.history import Order

FEATURES: tuple[str, ...] = (
    "days_since_last", "overdue_ratio", "log_orders", "orders_90", "orders_180", "orders_365",
    "order_trend", "spend_trend", "log_spend_365", "tenure_days", "cases_180",
)


@dataclass(frozen=True)
class ChurnRules:
    """The thresholds of the rule-based warning."""

    overdue_factor: float = 2.0
    window_days: int = 180
    drop_ratio: float = 0.5
    min_drop_orders: float = 2.0
    min_orders: int = 3
    lapsed_days: int = 365


@dataclass(frozen=True)
class ChurnSignal:
    """The rules' verdict on one customer: warned or not, why, and the facts behind it."""

    customer: str
    warning: bool
    reasons: tuple[str, ...]
    days_since_last: int
    cadence_days: float | None

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def cadence_days(orders: list[Order]) -> float | None:
    """The customer's usual interval: the median gap between consecutive orders (None below 2 orders)."""
    if len(orders) < 2:
        return None
    gaps = [(b.at - a.at).total_seconds() / 86400 for a, b in pairwise(orders)]
    return max(1.0, statistics.median(gaps))


def _rates(orders: list[Order], as_of: datetime, window_days: int) -> tuple[int, float, float, float] | None:
    """(recent orders, earlier orders per window, recent spend, earlier spend per window) or None if too new."""
    start = as_of - timedelta(days=window_days)
    earlier = [o for o in orders if o.at <= start]
    span = (start - orders[0].at).days
    if span < window_days or not earlier:
        return None
    recent = [o for o in orders if start < o.at <= as_of]
    scale = window_days / span
    return (len(recent), len(earlier) * scale, sum(o.amount for o in recent), sum(o.amount for o in earlier) * scale)


def churn_signal(customer: str, orders: list[Order], as_of: datetime, rules: ChurnRules = ChurnRules()) -> ChurnSignal:
    """Apply the rules to one customer's orders up to `as_of` (oldest first)."""
    past = [o for o in orders if o.at <= as_of]
    if not past:
        return ChurnSignal(customer, False, (), -1, None)
    days = (as_of - past[-1].at).days
    cadence = cadence_days(past)
    reasons: list[str] = []
    if days > rules.lapsed_days:
        reasons.append(f"lapsed: no order for {days} days")
    elif cadence is not None and len(past) >= rules.min_orders and days > rules.overdue_factor * cadence:
        reasons.append(f"no order for {days} days, {days / cadence:.1f}x their usual interval of "
                       f"{cadence:.0f} days")
    rates = _rates(past, as_of, rules.window_days) if len(past) >= rules.min_orders else None
    if rates is not None:
        recent, before, spend, spend_before = rates
        if recent < rules.drop_ratio * before and before - recent >= rules.min_drop_orders:
            plural = "" if recent == 1 else "s"
            reasons.append(f"{recent} order{plural} in the last {rules.window_days} days against about "
                           f"{before:.1f} per {rules.window_days} days before")
        elif before >= 2 * rules.min_drop_orders and spend < rules.drop_ratio * spend_before:
            reasons.append(f"spend in the last {rules.window_days} days down {100 * (1 - spend / spend_before):.0f}% "
                           "on their earlier rate")
    return ChurnSignal(customer, bool(reasons), tuple(reasons), days, cadence)


def churn_features(orders: list[Order], cases: list[datetime], cutoff: datetime,
                   default_cadence: float) -> list[float] | None:
    """The model's features for one customer from what was known at `cutoff` (None: no order yet)."""
    past = [o for o in orders if o.at <= cutoff]
    if not past:
        return None
    days = (cutoff - past[-1].at).total_seconds() / 86400

    def count(window: int) -> int:
        return sum(1 for o in past if (cutoff - o.at).days < window)

    cadence = cadence_days(past) or default_cadence
    rates = _rates(past, cutoff, 180)
    order_trend = spend_trend = 0.0
    if rates is not None:
        recent, before, spend, spend_before = rates
        order_trend = math.log((recent + 1) / (before + 1))
        spend_trend = math.log((spend + 1) / (spend_before + 1))
    spend_365 = sum(o.amount for o in past if (cutoff - o.at).days < 365)
    cases_180 = sum(1 for at in cases if cutoff - timedelta(days=180) < at <= cutoff)
    return [days, days / cadence, math.log1p(len(past)), count(90), count(180), count(365), order_trend,
            spend_trend, math.log1p(spend_365), (cutoff - past[0].at).days, cases_180]


def no_order_within(orders: list[Order], cutoff: datetime, horizon_days: int) -> bool:
    """The label: no order in (cutoff, cutoff + horizon]."""
    end = cutoff + timedelta(days=horizon_days)
    return not any(cutoff < o.at <= end for o in orders)
