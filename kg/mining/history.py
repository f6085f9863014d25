"""The customer base as mining sees it: orders and support cases per customer, read from Neo4j.

Amounts must be comparable across customers. When every transaction has the same currency the
order totals are used; when currencies differ (the sample sells in CNY, USD, GBP...) each order
is valued at the catalogue's list prices (Σ quantity × Product.price, one currency), so that a
yuan and a pound are never added up. `History.amount_basis` says which was used.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kcrm.foundation.errors import MiningInputError
from kcrm.kg.connection import Graph
from kcrm.kg.visibility import visible
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)

READ_CUSTOMERS = f"MATCH (c:`{{customer}}`) WHERE {visible('c')} RETURN c.uid AS uid, c.name AS name ORDER BY uid"
READ_PRODUCTS = "MATCH (p:`{product}`) RETURN p.uid AS uid, p.name AS name ORDER BY uid"
READ_ORDERS = f"""
MATCH (c:`{{customer}}`)-[:`{{placed}}`]->(t:`{{transaction}}`) WHERE {visible('c')} AND {visible('t')}
OPTIONAL MATCH (t)-[line:`{{contains}}`]->(p:`{{product}}`)
WITH c, t, collect(p.uid) AS products, sum(coalesce(line.quantity, 1) * p.price) AS listValue,
     collect(DISTINCT p.currency) AS listCurrencies, count(p.price) AS priced, count(p) AS lines
RETURN c.uid AS customer, t.uid AS uid, t.orderedAt AS at, t.total AS total, t.currency AS currency,
       products, listValue, listCurrencies, priced = lines AND lines > 0 AS fullyPriced
ORDER BY at, uid
"""
READ_CASES = f"""
MATCH (c:`{{customer}}`)-[:`{{raised}}`]->(s:`{{case}}`) WHERE {visible('c')} AND {visible('s')}
RETURN c.uid AS customer, s.openedAt AS at ORDER BY at
"""


@dataclass(frozen=True)
class Order:
    """One transaction of one customer: when, how much (see `History.amount_basis`), which products."""

    uid: str
    customer: str
    at: datetime
    amount: float
    products: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseEvent:
    """A support case a customer raised, by the time it was opened."""

    customer: str
    at: datetime


@dataclass
class History:
    """Everything mining reads, in plain Python: testable without a graph."""

    customers: dict[str, str]
    orders: list[Order]
    cases: list[CaseEvent] = field(default_factory=list)
    amount_basis: str = "order total"
    products: dict[str, str] = field(default_factory=dict)

    def orders_by_customer(self) -> dict[str, list[Order]]:
        """Each customer's orders, oldest first (customers without orders are absent)."""
        grouped: dict[str, list[Order]] = defaultdict(list)
        for order in sorted(self.orders, key=lambda o: (o.at, o.uid)):
            grouped[order.customer].append(order)
        return dict(grouped)

    def cases_by_customer(self) -> dict[str, list[datetime]]:
        grouped: dict[str, list[datetime]] = defaultdict(list)
        for case in self.cases:
            grouped[case.customer].append(case.at)
        return {customer: sorted(times) for customer, times in grouped.items()}

    def latest(self) -> datetime:
        """The last moment the data knows of: the default 'as of' time of every analysis."""
        times = [o.at for o in self.orders] + [c.at for c in self.cases]
        if not times:
            raise MiningInputError("the graph holds no transactions to mine")
        return max(times)


def to_datetime(value: Any) -> datetime:
    """A stored date-time (ISO string or Neo4j temporal) as an aware UTC datetime."""
    if hasattr(value, "to_native"):
        value = value.to_native()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise MiningInputError(f"expected a date-time, got {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _amounts(rows: list[dict[str, Any]]) -> tuple[list[float], str]:
    currencies = {row["currency"] for row in rows}
    if len(currencies) <= 1:
        return [float(row["total"] or 0.0) for row in rows], f"order total ({next(iter(currencies)) or 'one currency'})"
    list_currencies = {c for row in rows for c in row["listCurrencies"] if c}
    if len(list_currencies) > 1 or not all(row["fullyPriced"] for row in rows):
        raise MiningInputError(
            f"transactions are in {len(currencies)} currencies ({', '.join(sorted(map(str, currencies)))}) and "
            "products lack one-currency list prices to compare them by")
    return [float(row["listValue"]) for row in rows], f"list price ({next(iter(list_currencies), 'USD')})"


def read_history(graph: Graph, ontology: Ontology, groups: list[str] | None = None) -> History:
    """Customers, their orders and their cases; labels and types come from the ontology.

    `groups`: a caller's visible groups (`kcrm.kg.visibility.query_groups`), so that figures
    computed for a caller rest only on what it may see; None (mining, the CLI) reads everything.
    """
    names = {
        "customer": ontology.class_spec("Customer").name, "transaction": ontology.class_spec("Transaction").name,
        "product": ontology.class_spec("Product").name, "case": ontology.class_spec("SupportCase").name,
        "placed": ontology.relationship("PLACED").type, "contains": ontology.relationship("CONTAINS").type,
        "raised": ontology.relationship("RAISED").type,
    }
    customers = {row["uid"]: row["name"] or row["uid"] for row in graph.read(READ_CUSTOMERS.format(**names), groups=groups)}
    rows = graph.read(READ_ORDERS.format(**names), groups=groups)
    bad = [row["uid"] for row in rows if row["at"] is None]
    if bad:
        raise MiningInputError(f"transactions without orderedAt: {', '.join(bad[:10])}")
    amounts, basis = _amounts(rows) if rows else ([], "order total")
    orders = [Order(row["uid"], row["customer"], to_datetime(row["at"]), amount, tuple(sorted(set(row["products"]))))
              for row, amount in zip(rows, amounts, strict=True)]
    cases = [CaseEvent(row["customer"], to_datetime(row["at"]))
             for row in graph.read(READ_CASES.format(**names), groups=groups) if row["at"] is not None]
    log.info("read %d customers, %d orders (%s), %d cases", len(customers), len(orders), basis, len(cases))
    products = {row["uid"]: row["name"] or row["uid"] for row in graph.read(READ_PRODUCTS.format(**names))}
    return History(customers=customers, orders=orders, cases=cases, amount_basis=basis, products=products)
