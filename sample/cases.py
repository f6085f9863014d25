"""Support cases for the sample company: realistic tickets tied to what each customer really bought.

A case starts from one of the customer's order lines, so the product, the dates and the order
number in the text agree with the transactions; the topic fits the product's category, the
resolver is mostly (not only) one of the few people skilled in it, and customers who later stop
buying complain more before they go.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from kcrm.sample.catalog import CASE_PROPENSITY, CHANNELS, TOPIC_TEAMS, TOPICS, ProductRow
from kcrm.sample.common import (
    GENERIC_EN,
    GENERIC_ZH,
    Record,
    fill,
    iso,
    make_slots,
    pick_title,
    record,
    rel_from,
    rel_to,
    scenarios_for,
    slot_names,
)
from kcrm.sample.orders import Order, OrderLine
from kcrm.sample.people import DATA_END, Customer, Employee
from kcrm.sample.policies import Regulation

N_CASES = 3000
END = datetime.combine(DATA_END, time(23, 59, 59))
_COMPLAINTS = ("topic-refund", "topic-shipping-delay", "topic-hardware-fault", "topic-damaged-item", "topic-returns",
               "topic-warranty-claim", "topic-repair-status", "topic-driver-update", "topic-printing")
# days from the order to the case: (min, max) per topic; other topics use (7, 540)
_DELAY = {"topic-payment-failure": (0, 1), "topic-shipping-delay": (2, 14), "topic-damaged-item": (1, 7),
          "topic-returns": (3, 30), "topic-refund": (5, 45), "topic-invoice": (1, 40), "topic-installation": (1, 60)}
_PRIORITY = ("low", "medium", "high", "urgent")
_PRIORITY_WEIGHTS = {
    "topic-suspicious-activity": (0, 2, 5, 4), "topic-malware": (0, 2, 5, 4), "topic-payment-failure": (1, 5, 3, 1),
    "topic-account-locked": (1, 4, 4, 1), "topic-sso": (0, 3, 5, 2), "topic-api-errors": (1, 4, 4, 1),
    "topic-vpn": (1, 4, 4, 1), "topic-shipping-delay": (2, 5, 2, 0.5), "topic-damaged-item": (1, 5, 3, 0.3),
    "topic-hardware-fault": (1, 5, 3, 0.5), "topic-driver-update": (1, 5, 3, 0.5), "topic-invoice": (5, 4, 1, 0),
    "topic-subscription": (4, 5, 1, 0), "topic-license-transfer": (4, 5, 1, 0), "topic-gdpr-data-export": (1, 6, 3, 0),
    "topic-data-deletion": (2, 6, 2, 0), "topic-pipl": (1, 6, 3, 0),
}
_HOURS_TO_CLOSE = {"urgent": (1, 24), "high": (4, 96), "medium": (8, 240), "low": (24, 480)}


@dataclass(frozen=True)
class CaseContext:
    """Everything the case generator reads; built once by the orchestrator."""

    customers: list[Customer]
    orders: list[Order]
    products: dict[str, ProductRow]
    employees: list[Employee]
    regulations: list[Regulation]
    texts: dict[str, dict[str, dict[str, list[str]]]]


def region_matches(region: str, customer: Customer) -> bool:
    """Whether a policy or rule for `region` applies to this customer."""
    country = customer.country
    return {"global": True, "intl": country != "China", "cn": country == "China", "eu": country == "Ireland",
            "uk": country == "United Kingdom", "us": country == "United States",
            "us-ca": country == "United States" and customer.city in ("San Francisco", "San Diego"),
            "au": country == "Australia"}.get(region, False)


def governing(topic: str, customer: Customer, regulations: list[Regulation]) -> list[Regulation]:
    """The policy and up to two rules that clearly apply to a case on `topic` for this customer."""
    found = [r for r in regulations if topic in r.topics and region_matches(r.region, customer)
             and (customer.is_person or not r.consumer_only)]
    found.sort(key=lambda r: (r.region == "global", r.uid))
    policies = [r for r in found if r.kind == "Policy"][:1]
    rules = [r for r in found if r.kind == "IndustryRule"
             and (r.consumer_only or "*" in r.binds or customer.industry in r.binds or not r.binds)][:2]
    return policies + rules


def _eligible(customer: Customer, category: str, texts: dict[str, dict[str, list]]) -> tuple[list[str], list[float]]:
    """Topics a customer may raise about a product of `category`, with their weights."""
    topics, weights = [], []
    for topic, (weight, categories, business_only) in TOPICS.items():
        if category not in categories or (business_only and customer.is_person):
            continue
        if not scenarios_for(texts[topic], category):
            continue
        if topic == "topic-pipl" and customer.country != "China":
            weight = weight * 0.15 if customer.segment in ("SEG-ENTERPRISE", "SEG-REGULATED") else 0
        if topic == "topic-gdpr-data-export" and customer.country == "China":
            weight *= 0.15
        if weight:
            topics.append(topic)
            weights.append(float(weight))
    return topics, weights


def _customer_weights(customers: list[Customer], orders_of: dict[str, list[Order]]) -> list[float]:
    """More cases for busy and large customers; Chinese customers scaled to about a third of all cases."""
    factor = {"SEG-ENTERPRISE": 1.6, "SEG-REGULATED": 1.3, "SEG-PUBLIC": 1.1, "SEG-MIDMARKET": 1.1, "SEG-SMB": 1.0,
              "SEG-CONSUMER": 0.9}
    raw = [len(orders_of[c.uid]) ** 0.6 * factor[c.segment] for c in customers]
    zh = sum(w for w, c in zip(raw, customers, strict=True) if c.language == "zh")
    en = sum(raw) - zh
    scale = (0.34 / 0.66) * en / zh
    return [w * scale if c.language == "zh" else w for w, c in zip(raw, customers, strict=True)]


def _pick_resolver(rng: random.Random, topic: str, lang: str, employees: list[Employee]) -> Employee:
    skilled = [e for e in employees if topic in e.skills and lang in e.languages]
    if skilled and rng.random() < 0.88:
        # level cubed makes one or two real experts per topic; people mostly work in their first language
        return rng.choices(skilled, [e.skills[topic] ** 3 * (1 if e.languages[0] == lang else 0.3) for e in skilled])[0]
    team = [e for e in employees if e.team == TOPIC_TEAMS[topic] and lang in e.languages]
    return rng.choice(team or [e for e in employees if lang in e.languages])


def _priority(rng: random.Random, topic: str, customer: Customer) -> str:
    level = _PRIORITY.index(rng.choices(_PRIORITY, _PRIORITY_WEIGHTS.get(topic, (2, 5, 2, 0.3)))[0])
    if customer.segment in ("SEG-ENTERPRISE", "SEG-REGULATED") and level < 3 and rng.random() < 0.25:
        level += 1
    return _PRIORITY[level]


def _opened(rng: random.Random, order: Order, topic: str) -> datetime:
    low, high = _DELAY.get(topic, (7, 540))
    start = order.ordered_at.date()
    day = start + timedelta(days=rng.randint(low, high))
    if day > DATA_END:
        day = start + timedelta(days=rng.randint(0, max(0, (DATA_END - start).days)))
    return datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)))


def _status(rng: random.Random, opened: datetime, priority: str) -> tuple[str, datetime | None]:
    low, high = _HOURS_TO_CLOSE[priority]
    closed = opened + timedelta(hours=low + (high - low) * rng.random() ** 2, minutes=rng.randint(0, 59))
    if closed > END:
        return rng.choice(("open", "open", "pending")), None
    if (END - opened).days > 60 and rng.random() < 0.01:
        return "pending", None
    recent = (END - closed).days < 10
    return ("resolved" if rng.random() < (0.7 if recent else 0.06) else "closed"), closed


def _compose(rng: random.Random, text: dict[str, list], category: str, slots: dict[str, str], lang: str,
             urgent: bool, resolved: bool) -> tuple[str, str, str]:
    """Title, description and resolution of one coherent scenario, padded with details that fit any."""
    generic = GENERIC_ZH if lang == "zh" else GENERIC_EN
    _, title, symptom, fix = rng.choice(scenarios_for(text, category))
    parts = [fill(symptom, slots)]
    used = slot_names(symptom)
    fresh = [d for d in text["details"] if not slot_names(d) & used] or text["details"]
    details = rng.sample(fresh, min(len(fresh), 2 if rng.random() < 0.3 else 1))
    parts += [fill(d, slots) for d in details]
    tried = text["tried"] if rng.random() < 0.6 else generic["tried"]
    parts.append(fill(rng.choice(tried), slots))
    if rng.random() < 0.55:
        parts.append(fill(rng.choice(generic["impact_high" if urgent else "impact_low"]), slots))
    joiner = "" if lang == "zh" else " "
    description = joiner.join(parts)
    if rng.random() < 0.25:
        description = rng.choice(generic["greeting"]) + ("" if lang == "zh" else "\n") + description
    resolution = ""
    if resolved:
        resolution = fill(fix, slots)
        if rng.random() < 0.5:
            resolution += joiner + fill(rng.choice(generic["closing"]), slots)
    return fill(pick_title(rng, title), slots), description, resolution


def build_cases(rng: random.Random, ctx: CaseContext, product_uid: dict[str, str]) -> list[Record]:
    """N_CASES support-case records (CASE-000001 ... in opening order)."""
    orders_of: dict[str, list[Order]] = {c.uid: [] for c in ctx.customers}
    for order in ctx.orders:
        orders_of[order.customer].append(order)
    weights = _customer_weights(ctx.customers, orders_of)
    drafts = []
    for _ in range(N_CASES):
        customer = rng.choices(ctx.customers, weights)[0]
        history = orders_of[customer.uid]
        complaint = customer.stop_date is not None and rng.random() < 0.4
        if complaint:
            cutoff = customer.stop_date - timedelta(days=150)
            history = [o for o in history if o.ordered_at.date() >= cutoff] or history
        lines = [(o, line) for o in history for line in o.lines]
        order, line = rng.choices(lines, [CASE_PROPENSITY[ctx.products[ln.product].category] for _, ln in lines])[0]
        row = ctx.products[line.product]
        topics, topic_weights = _eligible(customer, row.category, ctx.texts[customer.language])
        if complaint and any(t in _COMPLAINTS for t in topics):
            topic_weights = [w * (6 if t in _COMPLAINTS else 1) for t, w in zip(topics, topic_weights, strict=True)]
        topic = rng.choices(topics, topic_weights)[0]
        opened = _opened(rng, order, topic)
        drafts.append((opened, customer, order, line, row, topic, complaint))
    drafts.sort(key=lambda d: (d[0], d[1].uid))
    return [_case_record(rng, ctx, n, *draft, product_uid=product_uid) for n, draft in enumerate(drafts, start=1)]


def _case_record(rng: random.Random, ctx: CaseContext, n: int, opened: datetime, customer: Customer, order: Order,
                 line: OrderLine, row: ProductRow, topic: str, complaint: bool, *,
                 product_uid: dict[str, str]) -> Record:
    lang = customer.language
    priority = _priority(rng, topic, customer)
    if complaint and priority in ("low", "medium") and rng.random() < 0.5:
        priority = "high"
    status, closed = _status(rng, opened, priority)
    resolved = status in ("resolved", "closed")
    amount = round(line.quantity * line.unit_price, 2) if rng.random() < 0.7 else order.total
    slots = make_slots(rng, lang, topic, row, opened.date(), country=customer.country, order_number=order.number,
                       order_day=order.ordered_at.date(), amount=amount, currency=order.currency,
                       business=not customer.is_person)
    title, description, resolution = _compose(rng, ctx.texts[lang][topic], row.category, slots, lang,
                                              priority in ("high", "urgent"), resolved)
    channel = rng.choices([c[0] for c in CHANNELS], [c[3] if lang == "zh" else c[2] for c in CHANNELS])[0]
    props: dict[str, object] = {"title": title, "description": description, "resolution": resolution,
                                "priority": priority, "status": status, "openedAt": iso(opened), "language": lang}
    if closed is not None:
        props["closedAt"] = iso(closed)
    rels = [rel_from("RAISED", customer.uid, "Customer"), rel_to("ABOUT_PRODUCT", product_uid[row.model], "Product"),
            rel_to("HAS_TOPIC", topic, "Topic"), rel_to("VIA_CHANNEL", channel, "Channel")]
    if resolved:
        rels.append(rel_to("RESOLVED_BY", _pick_resolver(rng, topic, lang, ctx.employees).uid, "Employee"))
    for reg in governing(topic, customer, ctx.regulations):
        rels.append(rel_to("GOVERNED_BY", reg.uid, reg.kind))
    return record("SupportCase", f"CASE-{n:06d}", props, rels)
