"""Small synthetic customer histories for the mining unit tests (hand-checkable)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kcrm.kg.mining.history import Order

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def orders(customer: str, days_ago: list[int], amount: float | list[float] = 100.0,
           products: tuple[str, ...] = ("P1",)) -> list[Order]:
    """Orders of one customer placed `days_ago` days before AS_OF, oldest first."""
    amounts = amount if isinstance(amount, list) else [amount] * len(days_ago)
    made = [Order(f"{customer}-{n}", customer, AS_OF - timedelta(days=d), a, products)
            for n, (d, a) in enumerate(zip(days_ago, amounts, strict=True))]
    return sorted(made, key=lambda o: o.at)


def every(step: int, start: int, stop: int = 0) -> list[int]:
    """Days-ago values from `start` down to `stop` (exclusive) every `step` days."""
    return list(range(start, stop, -step))
