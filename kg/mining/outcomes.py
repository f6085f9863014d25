"""Did acting on a recommendation work? Uplift of each kind of action against matched customers.

An action (a retention call after a churn warning, a cross-sell offer, a campaign sent) is
judged by one outcome per kind, looked for in the `window_days` after the day it was taken:

| kind | outcome | window |
| --- | --- | --- |
| retention-call | still active: placed any order | 90 days |
| crosssell-offer | bought the offered product | 120 days |
| campaign-send | ordered again: placed any order | 30 days |

**Method (stated plainly).** Exact matching on strata, then a difference in proportions.
Each action's customer is put in a stratum as of the start of the action's day (UTC), from what
was known then: the value tier (RFM quintiles over everyone's orders up to that day,
`kg.mining.value`), the segment (the customer's ingested segment) and the churn risk (the churn
rules' warning as of that day, `kg.mining.churn`: "high" when warned, else "low"). Figures from
after the action would be changed by it, so none are used. Its comparison group is every other
customer in the same stratum on the same day who was not acted on by this kind of action within
`window_days` either side, and, for a product offer, had not bought that product before. An
action with no such customer is left unmatched (counted, not measured). The uplift is the mean over
matched actions of (its outcome - its comparison group's outcome rate): the average effect on
the customers acted on, unbiased when, within a stratum, who was acted on did not depend on
anything else that drives the outcome.

The 95% interval is uplift +/- 1.96 SE (normal approximation), with
SE^2 = s^2 / n + sum over cells (n_cell / n)^2 * q(1 - q) / m_cell, where s^2 is the sample
variance over matched actions of (outcome - comparison rate), a cell is the actions sharing a
day, stratum and product, m_cell its comparison customers and q = (k + 1) / (m_cell + 2) their
shrunk outcome rate (so that a comparison group of zeros does not claim zero noise). Comparison
customers shared between cells are treated as independent; the first term counts the spread of
comparison rates between cells as noise, which errs on the wide side.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kcrm.foundation.errors import MiningInputError
from kcrm.kg.mining.churn import churn_signal
from kcrm.kg.mining.history import Order
from kcrm.kg.mining.value import customer_values

Z95 = 1.959963984540054
NO_TIER, NO_SEGMENT = "none", "none"


@dataclass(frozen=True)
class OutcomeRule:
    """How one kind of action is judged: its outcome, the window and the recommendation it follows."""

    kind: str
    measure: str
    description: str
    window_days: int
    recommendation: str
    needs_product: bool = False


RULES: dict[str, OutcomeRule] = {
    "retention-call": OutcomeRule("retention-call", "still-active", "placed an order within 90 days", 90,
                                  "churn-warning"),
    "crosssell-offer": OutcomeRule("crosssell-offer", "bought-product", "bought the offered product within 120 days",
                                   120, "cross-sell", needs_product=True),
    "campaign-send": OutcomeRule("campaign-send", "ordered-again", "ordered again within 30 days", 30,
                                 "campaign-target"),
}
ACTION_KINDS = tuple(RULES)
RECOMMENDATIONS = tuple(rule.recommendation for rule in RULES.values())


@dataclass(frozen=True)
class ActionEvent:
    """One recorded action: on whom, of which kind, when, and the product it offered (if any)."""

    uid: str
    customer: str
    kind: str
    at: datetime
    product: str | None = None


@dataclass(frozen=True)
class Stratum:
    """What a customer is matched on, as of one day."""

    tier: str
    segment: str
    risk: str

    def label(self) -> str:
        return f"{self.tier}/{self.segment}/{self.risk}"


@dataclass
class KindEstimate:
    """The measured effect of one kind of action."""

    kind: str
    measure: str
    description: str
    window_days: int
    actions: int = 0
    pending: int = 0
    matched: int = 0
    controls: int = 0
    treated_rate: float | None = None
    control_rate: float | None = None
    uplift: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    naive_uplift: float | None = None
    strata: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (rates and intervals rounded to 4 places)."""
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {"kind": self.kind, "measure": self.measure, "description": self.description,
                "windowDays": self.window_days, "actions": self.actions, "pending": self.pending,
                "matched": self.matched, "controls": self.controls, "strata": self.strata,
                "treatedRate": r(self.treated_rate), "controlRate": r(self.control_rate), "uplift": r(self.uplift),
                "ciLow": r(self.ci_low), "ciHigh": r(self.ci_high), "naiveUplift": r(self.naive_uplift)}


@dataclass
class OutcomeResult:
    """Every kind's estimate and each measured action's observed outcome."""

    as_of: datetime
    estimates: dict[str, KindEstimate]
    observed: dict[str, bool] = field(default_factory=dict)
    measures: dict[str, str] = field(default_factory=dict)
    method: str = "exact matching on tier, segment and churn risk as of the action day; difference in proportions; " \
                  "normal 95% interval"

    def summary(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "method": self.method,
                "estimates": [self.estimates[k].as_dict() for k in ACTION_KINDS if k in self.estimates]}


def day_start(moment: datetime) -> datetime:
    """Midnight UTC of the moment's day: when the strata are taken and the window opens."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def outcome(orders: list[Order], start: datetime, window_days: int, product: str | None) -> bool:
    """True when an order (with `product`, when given) was placed in (start, start + window]."""
    end = start + timedelta(days=window_days)
    return any(start < o.at <= end and (product is None or product in o.products) for o in orders)


def strata_as_of(orders_by_customer: dict[str, list[Order]], segments: dict[str, str],
                 when: datetime) -> dict[str, Stratum]:
    """Every customer's stratum from what was known at `when` (orders after it are ignored)."""
    values = customer_values(orders_by_customer, when)
    found = {}
    for customer in sorted(set(segments) | set(orders_by_customer)):
        orders = orders_by_customer.get(customer, [])
        warned = churn_signal(customer, orders, when).warning if orders else False
        tier = values[customer].tier if customer in values else NO_TIER
        found[customer] = Stratum(tier, segments.get(customer) or NO_SEGMENT, "high" if warned else "low")
    return found


def _bought_before(orders: list[Order], product: str, when: datetime) -> bool:
    return any(o.at <= when and product in o.products for o in orders)


def estimate_outcomes(orders_by_customer: dict[str, list[Order]], segments: dict[str, str],
                      actions: list[ActionEvent], as_of: datetime,
                      rules: dict[str, OutcomeRule] | None = None) -> OutcomeResult:
    """Uplift and 95% interval per kind of action (see the module's docstring for the method).

    `orders_by_customer`: each customer's orders, oldest first; `segments`: customer -> segment
    for every customer that may serve as a comparison; actions whose window has not closed by
    `as_of` are counted as pending and not measured.
    """
    rules = rules or RULES
    unknown = sorted({a.kind for a in actions} - set(rules))
    if unknown:
        raise MiningInputError(f"unknown action kind(s) {', '.join(unknown)}; use one of {', '.join(rules)}")
    strata_cache: dict[datetime, dict[str, Stratum]] = {}
    acted: dict[str, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for action in actions:
        acted[action.kind][action.customer].append(day_start(action.at))
    population = sorted(set(segments) | set(orders_by_customer))
    result = OutcomeResult(as_of=as_of, estimates={})
    for kind, rule in rules.items():
        estimate = KindEstimate(kind, rule.measure, rule.description, rule.window_days)
        result.estimates[kind] = estimate
        mine = sorted((a for a in actions if a.kind == kind), key=lambda a: (a.at, a.uid))
        estimate.actions = len(mine)
        window = timedelta(days=rule.window_days)
        diffs: list[float] = []
        naive_diffs: list[float] = []
        treated: list[bool] = []
        cells: dict[tuple[Any, ...], list[float]] = {}
        cell_sizes: dict[tuple[Any, ...], int] = defaultdict(int)
        used_controls: set[str] = set()
        naive: dict[tuple[datetime, str | None], float | None] = {}
        for action in mine:
            start = day_start(action.at)
            if start + window > as_of:
                estimate.pending += 1
                continue
            product = action.product if rule.needs_product else None
            if rule.needs_product and not product:
                estimate.pending += 1  # an offer without a product cannot be judged
                continue
            strata = strata_cache.get(start)
            if strata is None:
                strata = strata_cache[start] = strata_as_of(orders_by_customer, segments, start)
            own = strata.get(action.customer)
            y = outcome(orders_by_customer.get(action.customer, []), start, rule.window_days, product)
            result.observed[action.uid] = y
            result.measures[action.uid] = rule.measure

            def eligible(customer: str, start: datetime = start, product: str | None = product) -> bool:
                near = any(abs(when - start) <= window for when in acted[kind].get(customer, ()))
                owned = product is not None and _bought_before(orders_by_customer.get(customer, []), product, start)
                return customer != action.customer and not near and not owned

            key = (start, own, product)
            if key not in cells:
                comparison = [c for c in population if strata.get(c) == own and eligible(c)]
                cells[key] = [float(outcome(orders_by_customer.get(c, []), start, rule.window_days, product))
                              for c in comparison]
                used_controls.update(comparison)
            if (start, product) not in naive:
                everyone = [c for c in population if eligible(c)]
                naive[(start, product)] = statistics.fmean(
                    float(outcome(orders_by_customer.get(c, []), start, rule.window_days, product))
                    for c in everyone) if everyone else None
            if (rate := naive[(start, product)]) is not None:
                naive_diffs.append(float(y) - rate)
            if own is None or not cells[key]:
                continue
            cell_sizes[key] += 1
            treated.append(y)
            diffs.append(float(y) - statistics.fmean(cells[key]))
        estimate.matched = len(diffs)
        estimate.controls = len(used_controls)
        estimate.strata = len({k[1] for k in cell_sizes})
        if naive_diffs:
            estimate.naive_uplift = statistics.fmean(naive_diffs)
        if not diffs:
            continue
        n = len(diffs)
        estimate.uplift = statistics.fmean(diffs)
        estimate.treated_rate = sum(treated) / n
        estimate.control_rate = estimate.treated_rate - estimate.uplift
        spread = statistics.variance(diffs) / n if n > 1 else 0.25
        noise = 0.0
        for key, size in cell_sizes.items():
            m = len(cells[key])
            q = (sum(cells[key]) + 1) / (m + 2)
            noise += (size / n) ** 2 * q * (1 - q) / m
        half = Z95 * math.sqrt(spread + noise)
        estimate.ci_low = max(-1.0, estimate.uplift - half)
        estimate.ci_high = min(1.0, estimate.uplift + half)
    return result
