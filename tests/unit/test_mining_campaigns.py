"""Campaign sanity: recent repeats excluded, valuable low responders flagged, reasons that say why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kcrm.foundation.errors import MiningInputError
from kcrm.kg.mining.campaigns import (
    EXCLUDE,
    REVIEW,
    TARGET,
    Campaign,
    Candidate,
    Receipt,
    TargetingPolicy,
    decide,
    parse_tiers,
    select_targets,
)
from kcrm.sample.campaigns import CAMPAIGNS, build_campaigns

LAUNCH = datetime(2026, 11, 16, 9, tzinfo=UTC)
CAMPAIGN = Campaign("CMP-9", "Supplies, winter", "supplies-bundle", LAUNCH)


def receipts(customer: str, *history: tuple[int, str, bool]) -> list[Receipt]:
    """(days before launch, promotion, responded) -> receipts of distinct campaigns."""
    return [Receipt(customer, f"CMP-{n}", promo, LAUNCH - timedelta(days=days), responded)
            for n, (days, promo, responded) in enumerate(history)]


def test_same_promotion_inside_the_window_is_excluded_with_when_and_where() -> None:
    got = decide(CAMPAIGN, Candidate("C1", "A", "platinum"),
                 receipts("C1", (30, "supplies-bundle", True), (200, "security-upgrade", True)), TargetingPolicy())
    assert got.decision == EXCLUDE
    assert "CMP-0" in got.reason and "30 days before launch" in got.reason and "window 90 days" in got.reason
    assert got.last_same_promotion == LAUNCH - timedelta(days=30)


def test_the_window_is_a_parameter_and_other_promotions_do_not_count() -> None:
    history = receipts("C1", (30, "supplies-bundle", True))
    assert decide(CAMPAIGN, Candidate("C1", "A", "gold"), history, TargetingPolicy(recent_days=30)).decision == TARGET
    assert decide(CAMPAIGN, Candidate("C1", "A", "gold"), history, TargetingPolicy(recent_days=31)).decision == EXCLUDE
    other = receipts("C1", (5, "laptop-refresh", True))
    assert decide(CAMPAIGN, Candidate("C1", "A", "gold"), other, TargetingPolicy()).decision == TARGET


def test_valuable_low_responders_are_flagged_and_others_dropped() -> None:
    silent = [(100 + 30 * i, "security-upgrade", False) for i in range(4)]
    valuable = decide(CAMPAIGN, Candidate("C1", "A", "platinum"), receipts("C1", *silent), TargetingPolicy())
    cheap = decide(CAMPAIGN, Candidate("C2", "B", "bronze"), receipts("C2", *silent), TargetingPolicy())
    untiered = decide(CAMPAIGN, Candidate("C3", "C", None), receipts("C3", *silent), TargetingPolicy())
    assert valuable.decision == REVIEW and "platinum" in valuable.reason and "0 of 4" in valuable.reason
    assert cheap.decision == EXCLUDE and "low response" in cheap.reason and "bronze" in cheap.reason
    assert untiered.decision == EXCLUDE and "no value tier" in untiered.reason
    assert valuable.response_rate == 0.0


def test_a_response_rate_needs_enough_campaigns_and_a_recent_repeat_beats_a_review() -> None:
    two = receipts("C1", (100, "security-upgrade", False), (200, "laptop-refresh", False))
    assert decide(CAMPAIGN, Candidate("C1", "A", "bronze"), two, TargetingPolicy()).decision == TARGET
    silent_and_recent = receipts("C1", (10, "supplies-bundle", False), *[(100 + i, "x", False) for i in range(4)])
    assert decide(CAMPAIGN, Candidate("C1", "A", "platinum"), silent_and_recent,
                  TargetingPolicy()).decision == EXCLUDE
    one_in_five = receipts("C1", *[(100 + i, "x", i == 0) for i in range(5)])
    assert decide(CAMPAIGN, Candidate("C1", "A", "bronze"), one_in_five, TargetingPolicy()).decision == TARGET
    assert decide(CAMPAIGN, Candidate("C1", "A", "bronze"), one_in_five,
                  TargetingPolicy(low_response_rate=0.25)).decision == EXCLUDE


def test_only_receipts_before_the_launch_and_of_other_campaigns_count() -> None:
    later = [Receipt("C1", "CMP-7", "supplies-bundle", LAUNCH + timedelta(days=1), False),
             Receipt("C1", "CMP-9", "supplies-bundle", LAUNCH - timedelta(days=1), False)]
    got = decide(CAMPAIGN, Candidate("C1", "A", "silver"), later, TargetingPolicy())
    assert got.decision == TARGET and got.received == 0 and got.reason.startswith("eligible: no earlier campaign")


def test_select_targets_orders_by_decision_then_tier_and_counts() -> None:
    history = (receipts("C2", (20, "supplies-bundle", True))
               + receipts("C3", *[(100 + i, "x", False) for i in range(3)]))
    candidates = [Candidate("C1", "A", "bronze"), Candidate("C2", "B", "gold"), Candidate("C3", "C", "gold"),
                  Candidate("C4", "D", "platinum")]
    result = select_targets(CAMPAIGN, candidates, history)
    assert [d.customer for d in result.decisions] == ["C4", "C1", "C3", "C2"]
    assert result.counts == {TARGET: 2, REVIEW: 1, EXCLUDE: 1}
    summary = result.summary()
    assert summary["campaign"]["promotion"] == "supplies-bundle" and summary["policy"]["recentDays"] == 90


@pytest.mark.parametrize("kwargs", [{"recent_days": -1}, {"min_received": 0}, {"low_response_rate": 1.5},
                                    {"valuable_tiers": frozenset({"diamond"})}])
def test_bad_policies_are_refused_with_the_field(kwargs: dict) -> None:
    with pytest.raises(MiningInputError, match=next(iter(kwargs)).split("_")[0]):
        TargetingPolicy(**kwargs)


def test_parse_tiers() -> None:
    assert parse_tiers(" Platinum, gold ,,") == frozenset({"platinum", "gold"})


def test_sample_campaigns_repeat_promotions_and_leave_the_planned_ones_unsent() -> None:
    import random

    from kcrm.sample.people import build_customers, build_employees

    customers = build_customers(random.Random("42:customers"), build_employees())
    records = build_campaigns(random.Random("42:campaigns"), customers)
    assert [r["uid"] for r in records] == [c.uid for c in CAMPAIGNS]
    sent = [r for r in records if r["props"]["status"] == "sent"]
    planned = [r for r in records if r["props"]["status"] == "planned"]
    assert planned and all(not r["rels"] for r in planned) and all(len(r["rels"]) > 50 for r in sent)
    promotions = [r["props"]["promotion"] for r in sent]
    assert len(set(promotions)) < len(promotions)
    responses = [rel["props"]["responded"] for r in sent for rel in r["rels"]]
    assert 0.1 < sum(responses) / len(responses) < 0.5


def test_target_campaign_decides_only_for_customers_the_caller_may_see() -> None:
    from kcrm.kg.mining.campaign_graph import target_campaign
    from kcrm.ontology.model import load_ontology
    from kcrm.security.access import Principal

    class Graph:
        """Answers the three reads of `target_campaign` from fixed rows."""

        def read(self, cypher: str, **params):
            if "launchedAt" in cypher and "RETURN k" in cypher:
                return [{"k": {"uid": "CMP-9", "name": "x", "promotion": "p", "launchedAt": LAUNCH.isoformat()}}]
            if "AS tier" in cypher:
                return [{"uid": "C1", "name": "A", "tier": "gold", "groups": ["sales-eu"]},
                        {"uid": "C2", "name": "B", "tier": "gold", "groups": None}]
            return []

    agent = Principal(key_id="k", name="agent", groups=frozenset({"sales-cn"}))
    assert [d.customer for d in target_campaign(Graph(), load_ontology(), "CMP-9", principal=agent).decisions] == ["C2"]
    assert len(target_campaign(Graph(), load_ontology(), "CMP-9").decisions) == 2
