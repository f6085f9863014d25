"""Campaign sanity: who a campaign should go to, who it should skip, and who needs a person instead.

Pure logic (no graph): a campaign, the candidate customers with their value tier, and every
earlier campaign receipt in; one decision per customer out, each with its reason.

- **exclude (recent)**: the customer was sent the same promotion within `recent_days` before the
  launch; sending it again is noise, whatever the customer is worth.
- **review**: a valuable customer (tier in `valuable_tiers`) whose response rate is low; a mass
  mailing does not reach them, but dropping them would lose a customer worth keeping, so they are
  flagged for a personal contact.
- **exclude (low response)**: the same low response rate in a customer of any other tier.
- **target**: everyone else.

A response rate counts only after `min_received` campaigns, so new customers are not judged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kcrm.foundation.errors import MiningInputError

TARGET, REVIEW, EXCLUDE = "target", "review", "exclude"
DECISIONS = (TARGET, REVIEW, EXCLUDE)
TIER_ORDER = {"platinum": 0, "gold": 1, "silver": 2, "bronze": 3}


@dataclass(frozen=True)
class TargetingPolicy:
    """The knobs of campaign sanity (defaults from the settings `KCRM_CAMPAIGN_*`)."""

    recent_days: int = 90
    min_received: int = 3
    low_response_rate: float = 0.1
    valuable_tiers: frozenset[str] = frozenset({"platinum", "gold"})

    def __post_init__(self) -> None:
        if self.recent_days < 0:
            raise MiningInputError(f"recent_days must be 0 or more, got {self.recent_days}")
        if self.min_received < 1:
            raise MiningInputError(f"min_received must be at least 1, got {self.min_received}")
        if not 0.0 <= self.low_response_rate <= 1.0:
            raise MiningInputError(f"low_response_rate must be within [0, 1], got {self.low_response_rate}")
        unknown = sorted(set(self.valuable_tiers) - set(TIER_ORDER))
        if unknown:
            raise MiningInputError(f"valuable_tiers: unknown value tier(s) {', '.join(unknown)}; use {', '.join(TIER_ORDER)}")


@dataclass(frozen=True)
class Campaign:
    """The campaign to target: its promotion and when it goes out."""

    uid: str
    name: str
    promotion: str
    launched_at: datetime
    status: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A customer the campaign could go to; `tier` is the mined value tier (None before `kcrm mine`)."""

    uid: str
    name: str
    tier: str | None = None


@dataclass(frozen=True)
class Receipt:
    """One earlier campaign a customer was sent, and whether they responded."""

    customer: str
    campaign: str
    promotion: str
    sent_at: datetime
    responded: bool


@dataclass(frozen=True)
class TargetDecision:
    """What to do with one customer for one campaign, and why."""

    customer: str
    name: str
    tier: str | None
    decision: str
    reason: str
    received: int = 0
    responded: int = 0
    last_same_promotion: datetime | None = None

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.received if self.received else None

    def as_dict(self) -> dict[str, Any]:
        """The decision as JSON-ready values (the API's and the CLI's shape)."""
        rate = self.response_rate
        return {"customer": self.customer, "name": self.name, "tier": self.tier, "decision": self.decision,
                "reason": self.reason, "received": self.received, "responded": self.responded,
                "responseRate": round(rate, 4) if rate is not None else None,
                "lastSamePromotion": self.last_same_promotion.isoformat() if self.last_same_promotion else None}


@dataclass
class TargetingResult:
    """Every candidate's decision, target first; `counts` per decision."""

    campaign: Campaign
    policy: TargetingPolicy
    decisions: list[TargetDecision] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(DECISIONS, 0)
        for decision in self.decisions:
            counts[decision.decision] += 1
        return counts

    def summary(self) -> dict[str, Any]:
        """The campaign, the policy applied and the counts per decision."""
        c, p = self.campaign, self.policy
        return {"campaign": {"uid": c.uid, "name": c.name, "promotion": c.promotion,
                             "launchedAt": c.launched_at.isoformat(), "status": c.status},
                "policy": {"recentDays": p.recent_days, "minReceived": p.min_received,
                           "lowResponseRate": p.low_response_rate, "valuableTiers": sorted(p.valuable_tiers)},
                "counts": self.counts}


def parse_tiers(text: str | Iterable[str]) -> frozenset[str]:
    """Value tiers from "platinum,gold" (or a list), lower-cased, blanks dropped."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    return frozenset(p.strip().lower() for p in parts if p.strip())


def decide(campaign: Campaign, candidate: Candidate, receipts: Iterable[Receipt],
           policy: TargetingPolicy) -> TargetDecision:
    """The decision for one customer, from the campaigns they were sent before this one's launch."""
    earlier = [r for r in receipts if r.sent_at < campaign.launched_at and r.campaign != campaign.uid]
    received, responded = len(earlier), sum(r.responded for r in earlier)
    same = [r for r in earlier if r.promotion == campaign.promotion]
    last = max(same, key=lambda r: r.sent_at, default=None)
    base: dict[str, Any] = {"customer": candidate.uid, "name": candidate.name, "tier": candidate.tier, "received": received,
            "responded": responded, "last_same_promotion": last.sent_at if last else None}
    if last is not None:
        days = (campaign.launched_at - last.sent_at).days
        if days < policy.recent_days:
            return TargetDecision(**base, decision=EXCLUDE, reason=(
                f"got the same promotion ({campaign.promotion}) in {last.campaign} on {last.sent_at.date()}, "
                f"{days} days before launch (window {policy.recent_days} days)"))
    tier = candidate.tier or "no value tier"
    if received >= policy.min_received and responded / received < policy.low_response_rate:
        history = f"responded to {responded} of {received} earlier campaigns"
        if candidate.tier in policy.valuable_tiers:
            return TargetDecision(**base, decision=REVIEW, reason=(
                f"{tier} customer who {history}: valuable but unresponsive to mass campaigns, "
                "flagged for a personal contact rather than dropped"))
        return TargetDecision(**base, decision=EXCLUDE, reason=(
            f"low response: {history} (below {policy.low_response_rate:.0%}), {tier}"))
    history = (f"responded to {responded} of {received} earlier campaigns" if received
               else "no earlier campaign")
    return TargetDecision(**base, decision=TARGET, reason=f"eligible: {history}; {tier}")


def select_targets(campaign: Campaign, candidates: Iterable[Candidate], receipts: Iterable[Receipt],
                   policy: TargetingPolicy = TargetingPolicy()) -> TargetingResult:
    """One decision per candidate: targets first, then reviews, then exclusions; by tier, then uid."""
    by_customer: dict[str, list[Receipt]] = defaultdict(list)
    for receipt in receipts:
        by_customer[receipt.customer].append(receipt)
    decisions = [decide(campaign, c, by_customer.get(c.uid, ()), policy) for c in candidates]
    decisions.sort(key=lambda d: (DECISIONS.index(d.decision), TIER_ORDER.get(d.tier or "", 9), d.customer))
    return TargetingResult(campaign=campaign, policy=policy, decisions=decisions)
