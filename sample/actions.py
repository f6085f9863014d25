"""Actions Skylark took on kcrm's recommendations, with a true effect the generator knows.

Three drives, one per kind of action, at dates whose outcome windows do not overlap:

- **retention calls** (2026-02-02): account managers call customers the churn rules warn about;
  business customers are called more often than consumers;
- **cross-sell offers** (2026-05-11): a product popular in the customer's segment that they have
  never bought, offered to active customers, more often to the valuable tiers;
- **campaign sends**: every recipient of campaign CMP-0009 (laptop trade-in, 2026-09-21).

Who is acted on depends on segment, tier and churn warning as of the action day, the very things
`kcrm mine outcomes` matches on (computed here with the miner's own definitions, on the same
list-price amounts), so an unmatched comparison is biased and a matched one is not.

The effect is planted, not assumed: a customer acted on who would not have reached the outcome
anyway (no order, or no order of the offered product, in the window) reaches it with probability
`lift` through one extra order in the window. Because the generator knows each acted-on customer's
outcome with and without the action, it records the realised true uplift (the mean over actions
of outcome-with minus outcome-without) in the manifest. Extra orders get uids after the last
ordinary one and come from their own random stream, so no ordinary record changes.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from kcrm.kg.mining.history import Order as MinedOrder
from kcrm.kg.mining.outcomes import RULES, outcome, strata_as_of
from kcrm.sample.catalog import ProductRow
from kcrm.sample.common import Record, iso, record, rel_from, rel_to
from kcrm.sample.orders import Order, OrderLine, _unit_price
from kcrm.sample.people import DATA_END, Customer

CAMPAIGN = "CMP-0009"
BUSINESS_CALL_RATE = {"SEG-ENTERPRISE": 0.6, "SEG-REGULATED": 0.6, "SEG-PUBLIC": 0.55, "SEG-MIDMARKET": 0.5,
                      "SEG-SMB": 0.4, "SEG-CONSUMER": 0.3}
OFFER_RATE = {"platinum": 0.55, "gold": 0.45, "silver": 0.3, "bronze": 0.2, "none": 0.0}


@dataclass(frozen=True)
class Drive:
    """One drive of actions: its kind, its day, and the planted effect."""

    kind: str
    day: date
    lift: float
    channel: str


DRIVES = (Drive("retention-call", date(2026, 2, 2), 0.4, "CH-PHONE"),
          Drive("crosssell-offer", date(2026, 5, 11), 0.3, "CH-EMAIL"),
          Drive("campaign-send", date(2026, 9, 21), 0.25, "CH-EMAIL"))
NOTES = {"retention-call": "Called after the churn warning; offered a review of their account.",
         "crosssell-offer": "Offered {product} with an introductory discount.",
         "campaign-send": "Sent the laptop trade-in campaign."}


def _mined(order: Order, prices: dict[str, float]) -> MinedOrder:
    at = order.ordered_at.replace(tzinfo=UTC)
    amount = sum(line.quantity * prices[line.product] for line in order.lines)
    return MinedOrder(order.uid, order.customer, at, amount, tuple(sorted({line.product for line in order.lines})))


def _favourite(orders: list[Order]) -> str:
    counts = Counter(line.product for o in orders for line in o.lines)
    return min(counts, key=lambda p: (-counts[p], p))


class _World:
    """Orders as the miner will see them, growing as drives add their extra orders."""

    def __init__(self, customers: list[Customer], orders: list[Order], rows: dict[str, ProductRow]) -> None:
        self.customers = {c.uid: c for c in customers}
        self.rows = rows
        self.prices = {uid: float(row.price_usd) for uid, row in rows.items()}
        self.orders: dict[str, list[Order]] = defaultdict(list)
        self.mined: dict[str, list[MinedOrder]] = defaultdict(list)
        for o in sorted(orders, key=lambda o: (o.ordered_at, o.customer)):
            self.add(o)
        self.next_number = len(orders) + 1

    def add(self, order: Order) -> None:
        self.orders[order.customer].append(order)
        self.mined[order.customer].append(_mined(order, self.prices))
        self.mined[order.customer].sort(key=lambda o: (o.at, o.uid))

    def extra_order(self, customer: str, product: str, start: datetime, window: int, channel: str,
                    rng: random.Random) -> Order:
        c = self.customers[customer]
        last = min(window - 1, (DATA_END - start.date()).days - 1)
        day = start.date() + timedelta(days=rng.randint(1, max(1, last)))
        when = datetime.combine(day, time(rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59)))
        currency = next((o.currency for o in self.orders[customer]), "USD")
        line = OrderLine(product, 1, _unit_price(self.rows[product], c, rng))
        order = Order(customer, when, channel, currency, [line], uid=f"TXN-{self.next_number:06d}",
                      number=f"SO-{when.year}-{self.next_number:06d}")
        self.next_number += 1
        self.add(order)
        return order


def _popular(world: _World, segment: str, before: datetime) -> list[str]:
    counts: Counter[str] = Counter()
    for uid, orders in world.mined.items():
        if world.customers[uid].segment == segment:
            counts.update(p for o in orders if o.at < before for p in o.products)
    return [p for p, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:8]]


def _chosen(drive: Drive, world: _World, start: datetime, recipients: dict[str, datetime],
            rng: random.Random) -> list[tuple[str, datetime, str | None]]:
    """(customer, acted at, offered product) for every customer this drive acts on."""
    segments = {uid: c.segment for uid, c in world.customers.items()}
    strata = strata_as_of(dict(world.mined), segments, start)
    picked: list[tuple[str, datetime, str | None]] = []
    for uid in sorted(world.customers):
        draw = rng.random()
        at = start + timedelta(hours=rng.randint(9, 17), minutes=rng.randint(0, 59))
        past = [o for o in world.mined[uid] if o.at < start]
        if drive.kind == "retention-call":
            if strata[uid].risk == "high" and draw < BUSINESS_CALL_RATE[segments[uid]]:
                picked.append((uid, at, None))
        elif drive.kind == "crosssell-offer":
            active = past and (start - past[-1].at).days <= 365
            owned = {p for o in past for p in o.products}
            options = [p for p in _popular(world, segments[uid], start) if p not in owned]
            if active and options and draw < OFFER_RATE[strata[uid].tier]:
                picked.append((uid, at, options[rng.randrange(min(3, len(options)))]))
        elif uid in recipients:
            picked.append((uid, recipients[uid], None))
    return picked


def build_actions(rng: random.Random, customers: list[Customer], orders: list[Order], rows: dict[str, ProductRow],
                  campaigns: list[Record]) -> tuple[list[Record], list[Order], dict[str, Any]]:
    """Action records, the extra orders they caused, and the true effect per kind (for the manifest)."""
    world = _World(customers, orders, rows)
    campaign = next(r for r in campaigns if r["uid"] == CAMPAIGN)
    recipients = {r["from"]: datetime.fromisoformat(r["props"]["sentAt"]) for r in campaign["rels"]
                  if r["type"] == "RECEIVED"}
    records: list[Record] = []
    extras: list[Order] = []
    truth: dict[str, Any] = {}
    for drive in DRIVES:
        rule = RULES[drive.kind]
        start = datetime.combine(drive.day, time(0, 0), tzinfo=UTC)
        if drive.kind == "campaign-send":
            start = min(recipients.values()).replace(hour=0, minute=0, second=0)
        picked = _chosen(drive, world, start, recipients, rng)
        effects = []
        for customer, at, product in picked:
            day = at.replace(hour=0, minute=0, second=0, microsecond=0)
            wanted = product if rule.needs_product else None
            without = outcome(world.mined[customer], day, rule.window_days, wanted)
            moved = rng.random() < drive.lift
            if moved and not without:
                item = product or _favourite(world.orders[customer])
                extras.append(world.extra_order(customer, item, day, rule.window_days, drive.channel, rng))
            effects.append(int(moved and not without))
            uid = f"ACT-{len(records) + 1:05d}"
            owner = world.customers[customer].owner
            rels = [rel_from("PERFORMED", owner, "Employee"), rel_to("ACTION_ON", customer, "Customer")]
            if product:
                rels.append(rel_to("OFFERED", product, "Product"))
            if drive.kind == "campaign-send":
                rels.append(rel_to("FOLLOWS", CAMPAIGN, "Campaign"))
            note = NOTES[drive.kind].format(product=rows[product].name if product else "")
            records.append(record("Action", uid, {"actionKind": drive.kind, "actedAt": iso(at),
                                                  "recommendation": rule.recommendation, "description": note}, rels))
        truth[drive.kind] = {"measure": rule.measure, "windowDays": rule.window_days, "day": drive.day.isoformat(),
                             "actions": len(picked), "lift": drive.lift,
                             "trueUplift": round(sum(effects) / len(effects), 4) if effects else None}
    return records, extras, truth
