"""Skylark's marketing campaigns: who was sent which promotion, when, and who responded.

Separate from the rest of the sample (its own random stream, its own file) so that adding it
changed no other record. Campaigns repeat promotions, so that "got the same offer recently" has
something to find; each customer has a hidden responsiveness (about a third never respond), so
that low responders exist among valuable customers too. Two campaigns are still planned: the
ones `kcrm mine campaign` is meant to target.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from kcrm.sample.common import Record, iso, record, rel_from
from kcrm.sample.people import Customer


@dataclass(frozen=True)
class CampaignRow:
    """One campaign of the calendar; `status` is "sent" (with recipients) or "planned" (none yet)."""

    uid: str
    promotion: str
    name: str
    launched: str
    status: str = "sent"
    reach: float = 0.4


PROMOTION_TEXT = {
    "supplies-bundle": "15% off toner, ink and paper bought together, for printer owners.",
    "security-upgrade": "Upgrade to SecureCore Premium with the first three months free.",
    "support-renewal": "Renew a support plan for two years at the price of eighteen months.",
    "laptop-refresh": "Trade in an old laptop for credit against a WorkBook or FieldBook.",
}
CAMPAIGNS: tuple[CampaignRow, ...] = (
    CampaignRow("CMP-0001", "supplies-bundle", "Printer supplies bundle, spring 2025", "2025-02-10"),
    CampaignRow("CMP-0002", "security-upgrade", "SecureCore Premium upgrade, 2025", "2025-04-14"),
    CampaignRow("CMP-0003", "support-renewal", "Support plan renewal, mid 2025", "2025-06-09"),
    CampaignRow("CMP-0004", "laptop-refresh", "Laptop trade-in, autumn 2025", "2025-09-08"),
    CampaignRow("CMP-0005", "supplies-bundle", "Printer supplies bundle, winter 2025", "2025-11-17"),
    CampaignRow("CMP-0006", "security-upgrade", "SecureCore Premium upgrade, 2026", "2026-02-09"),
    CampaignRow("CMP-0007", "support-renewal", "Support plan renewal, spring 2026", "2026-04-13"),
    CampaignRow("CMP-0008", "supplies-bundle", "Printer supplies bundle, late summer 2026", "2026-08-24", reach=0.5),
    CampaignRow("CMP-0009", "laptop-refresh", "Laptop trade-in, autumn 2026", "2026-09-21"),
    CampaignRow("CMP-0010", "supplies-bundle", "Printer supplies bundle, winter 2026", "2026-11-16", status="planned"),
    CampaignRow("CMP-0011", "security-upgrade", "SecureCore Premium upgrade, winter 2026", "2026-11-30",
                status="planned"),
)
NEVER_RESPONDS = 0.35


def _launch(row: CampaignRow) -> datetime:
    return datetime.combine(datetime.fromisoformat(row.launched).date(), time(9, 0), tzinfo=UTC)


def responsiveness(customers: list[Customer], rng: random.Random) -> dict[str, float]:
    """Each customer's hidden chance of responding to a campaign (0 for about a third)."""
    return {c.uid: 0.0 if rng.random() < NEVER_RESPONDS else rng.uniform(0.15, 0.6) for c in customers}


def _active(customer: Customer, when: datetime) -> bool:
    return customer.since <= when.date() and (customer.stop_date is None or customer.stop_date > when.date())


def build_campaigns(rng: random.Random, customers: list[Customer]) -> list[Record]:
    """Campaign records; RECEIVED (customer -> campaign, sentAt, responded) is written on the campaign."""
    chance = responsiveness(customers, rng)
    records = []
    for row in CAMPAIGNS:
        launched = _launch(row)
        props = {"name": row.name, "promotion": row.promotion, "launchedAt": iso(launched), "status": row.status,
                 "description": PROMOTION_TEXT[row.promotion], "language": "en"}
        rels = []
        if row.status == "sent":
            for customer in customers:
                if not _active(customer, launched) or rng.random() >= row.reach:
                    continue
                sent = launched + timedelta(hours=rng.randint(0, 47))
                rels.append(rel_from("RECEIVED", customer.uid, "Customer",
                                     {"sentAt": iso(sent), "responded": rng.random() < chance[customer.uid]}))
        records.append(record("Campaign", row.uid, props, rels))
    return records
