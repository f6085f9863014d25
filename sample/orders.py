"""Orders for the sample company: per-customer cadence, baskets by segment, some customers who stop.

Each customer buys at its own rhythm from a small installed base of favourite products; about a
sixth stop buying before the last six months and a tenth slow down, which is what churn
detection is meant to find later.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kcrm.sample.catalog import CURRENCIES, LINE_QUANTITY, SEGMENT_BASKETS, SOFTWARE, ProductRow
from kcrm.sample.people import DATA_END, ORDER_START, Customer

_DISCOUNT = {"SEG-ENTERPRISE": 0.82, "SEG-MIDMARKET": 0.9, "SEG-SMB": 0.97, "SEG-CONSUMER": 1.0,
             "SEG-PUBLIC": 0.88, "SEG-REGULATED": 0.88}
_PER_SEAT = ("SSE-STD", "SSE-EDR", "SSM-MG", "SOB-1Y", "SKM-HOST", "SV-BIZ")


@dataclass(frozen=True)
class OrderLine:
    """One line of an order."""

    product: str
    quantity: int
    unit_price: float


@dataclass
class Order:
    """An order before it is numbered; `uid` and `number` are set once all orders are sorted."""

    customer: str
    ordered_at: datetime
    channel: str
    currency: str
    lines: list[OrderLine]
    uid: str = ""
    number: str = ""

    @property
    def total(self) -> float:
        return round(sum(line.quantity * line.unit_price for line in self.lines), 2)


def _unit_price(row: ProductRow, customer: Customer, rng: random.Random) -> float:
    _, rate = CURRENCIES[customer.country]
    price = row.price_usd * rate * _DISCOUNT[customer.segment]
    if customer.segment == "SEG-CONSUMER" and rng.random() < 0.15:
        price *= 0.9  # seasonal promotion
    if customer.country == "China":
        return float(round(price))
    return round(price - 0.01, 2) if customer.segment == "SEG-CONSUMER" else round(price, 2)


def _quantity(row: ProductRow, category: str, customer: Customer, rng: random.Random) -> int:
    devices, seats = LINE_QUANTITY[customer.segment]
    if row.model in _PER_SEAT:
        low, high = seats
    elif category in SOFTWARE or category in ("cat-support-plans",):
        low, high = 1, 1 if customer.segment == "SEG-CONSUMER" else 3
    else:
        low, high = devices
    return max(1, int(round(low + (high - low) * rng.random() ** 2.5)))


def _channel(customer: Customer, rng: random.Random) -> str:
    if customer.segment == "SEG-CONSUMER":
        options = {"CH-WEB": 6, "CH-CHAT": 1, "CH-WECHAT": 5 if customer.language == "zh" else 0}
    else:
        options = {"CH-EMAIL": 4, "CH-WEB": 3, "CH-PHONE": 2, "CH-WECHAT": 2 if customer.language == "zh" else 0}
    names = sorted(options)
    return rng.choices(names, [options[n] for n in names])[0]


def _favourites(customer: Customer, catalogue: list[tuple[str, ProductRow]], rng: random.Random) -> list[int]:
    """Indexes of the products this customer keeps coming back to."""
    basket = SEGMENT_BASKETS[customer.segment]
    weights = [basket.get(cat, 0.0) for cat, _ in catalogue]
    count = rng.randint(3, 5) if customer.segment == "SEG-CONSUMER" else rng.randint(5, 10)
    picks: list[int] = []
    while len(picks) < count:
        idx = rng.choices(range(len(catalogue)), weights)[0]
        if idx not in picks:
            picks.append(idx)
    return picks


def _order_dates(customer: Customer, rng: random.Random) -> list[date]:
    start = max(customer.since, ORDER_START) + timedelta(days=rng.randint(0, 30))
    stop = customer.stop_date
    if stop is not None and stop < start + timedelta(days=120):
        customer.stop_date = stop = None
    end = stop or DATA_END
    dates: list[date] = []
    day = start
    while day <= end:
        dates.append(day)
        gap = rng.gammavariate(2.0, customer.cadence_days / 2.0)
        if customer.slowdown_from is not None and day >= customer.slowdown_from:
            gap *= 2.8
        day += timedelta(days=max(1, int(gap)))
    return dates


def build_orders(customers: list[Customer], catalogue: list[tuple[str, ProductRow]],
                 product_uids: list[str], rng: random.Random) -> list[Order]:
    """All orders of all customers, numbered in date order (TXN-000001, SO-2023-000001, ...)."""
    orders: list[Order] = []
    basket_cats = {seg: sorted(b) for seg, b in SEGMENT_BASKETS.items()}
    for customer in customers:
        favourites = _favourites(customer, catalogue, rng)
        allowed = [i for i, (cat, _) in enumerate(catalogue) if cat in basket_cats[customer.segment]]
        for day in _order_dates(customer, rng):
            n_lines = rng.choices([1, 2, 3, 4], [5, 3, 1.5, 0.7])[0]
            chosen: list[int] = []
            while len(chosen) < n_lines:
                idx = rng.choice(favourites) if rng.random() < 0.8 else rng.choice(allowed)
                if idx not in chosen:
                    chosen.append(idx)
            lines = [OrderLine(product_uids[i], _quantity(catalogue[i][1], catalogue[i][0], customer, rng),
                               _unit_price(catalogue[i][1], customer, rng)) for i in chosen]
            when = datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)))
            orders.append(Order(customer.uid, when, _channel(customer, rng), CURRENCIES[customer.country][0], lines))
    orders.sort(key=lambda o: (o.ordered_at, o.customer))
    for n, order in enumerate(orders, start=1):
        order.uid = f"TXN-{n:06d}"
        order.number = f"SO-{order.ordered_at.year}-{n:06d}"
    return orders
