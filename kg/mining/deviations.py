"""Deviations: a sudden change in a customer's behaviour against their own past.

The last `window_days` are compared with the customer's earlier windows of the same length.
Spend is flagged when it moved by at least `min_ratio` either way and lies more than `z` robust
standard deviations (median and MAD of the earlier windows) from the usual, for customers who
bought in at least half of their earlier windows (for rarer buyers no window is usual); cases are
flagged when a count at least that high would happen by chance under the customer's usual rate
(Poisson) less than `p_value` of the time. Each flag comes with the numbers in plain words.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from scipy.stats import poisson

from kcrm.kg.mining.history import Order


@dataclass(frozen=True)
class DeviationRules:
    """How unusual a window must be to count as a deviation."""

    window_days: int = 90
    min_windows: int = 4
    z: float = 3.0
    min_ratio: float = 2.0
    p_value: float = 0.01
    min_cases: int = 3


@dataclass(frozen=True)
class Deviation:
    """One customer's deviations in the latest window (empty `reasons`: none)."""

    customer: str
    reasons: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def _windows(times_amounts: list[tuple[datetime, float]], start: datetime, as_of: datetime,
             days: int) -> list[float]:
    """Sums per window, oldest first, the last window ending at `as_of`."""
    count = max(0, (as_of - start).days // days)
    sums = [0.0] * count
    for at, amount in times_amounts:
        back = (as_of - at).days // days if at <= as_of else -1
        if 0 <= back < count:
            sums[count - 1 - back] += amount
    return sums


def _spend_reason(spend: list[float], rules: DeviationRules) -> str | None:
    *before, latest = spend
    if sum(1 for x in before if x > 0) < len(before) / 2:
        return None  # buys too rarely for a window to have a usual spend
    usual = statistics.median(before)
    spread = 1.4826 * statistics.median(abs(x - usual) for x in before)
    z = (latest - usual) / max(spread, 0.1 * usual, 1e-9)
    ratio = (latest + 1e-9) / (usual + 1e-9)
    if abs(z) < rules.z or (1 / rules.min_ratio < ratio < rules.min_ratio):
        return None
    direction = "up" if latest > usual else "down"
    return (f"spend in the last {rules.window_days} days {direction} to {latest:,.0f} from a usual "
            f"{usual:,.0f} per {rules.window_days} days")


def _case_reason(cases: list[float], rules: DeviationRules) -> str | None:
    *before, latest = cases
    rate = sum(before) / len(before)
    if latest < rules.min_cases or poisson.sf(latest - 1, max(rate, 0.05)) >= rules.p_value:
        return None
    return (f"{latest:.0f} support cases in the last {rules.window_days} days against about {rate:.1f} "
            f"per {rules.window_days} days before")


def customer_deviation(customer: str, orders: list[Order], cases: list[datetime], as_of: datetime,
                       rules: DeviationRules = DeviationRules()) -> Deviation:
    """Compare the latest window of spend and of cases with the customer's earlier windows."""
    past = [o for o in orders if o.at <= as_of]
    firsts = [t for t in ([past[0].at] if past else []) + sorted(c for c in cases if c <= as_of)[:1]]
    if not firsts:
        return Deviation(customer, ())
    start = min(firsts)
    reasons = []
    spend = _windows([(o.at, o.amount) for o in past], start, as_of, rules.window_days)
    if len(spend) > rules.min_windows and past:
        reason = _spend_reason(spend, rules)
        if reason:
            reasons.append(reason)
    counts = _windows([(at, 1.0) for at in cases], start, as_of, rules.window_days)
    if len(counts) > rules.min_windows:
        reason = _case_reason(counts, rules)
        if reason:
            reasons.append(reason)
    return Deviation(customer, tuple(reasons))


def deviations(orders_by_customer: dict[str, list[Order]], cases: dict[str, list[datetime]], as_of: datetime,
               rules: DeviationRules = DeviationRules()) -> dict[str, Deviation]:
    """Every customer with orders or cases, checked for a deviation in the latest window."""
    customers = sorted(set(orders_by_customer) | set(cases))
    return {c: customer_deviation(c, orders_by_customer.get(c, []), cases.get(c, []), as_of, rules)
            for c in customers}


def window_start(as_of: datetime, rules: DeviationRules = DeviationRules()) -> datetime:
    """Where the latest window begins (for reports)."""
    return as_of - timedelta(days=rules.window_days)


