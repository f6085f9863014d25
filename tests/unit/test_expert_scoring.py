"""The arithmetic of expert ranking: Model 2 aggregation, weights, taxonomy propagation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kcrm.kg.expert_scoring import (
    FORUM_WEIGHTS,
    PRIOR_FLOOR,
    Association,
    ExpertProfile,
    Weights,
    activities,
    activity,
    aggregate_model2,
    case_weight,
    has_evidence,
    load_penalty,
    preset,
    rank,
    recency_weight,
    relevance_from_scores,
    skill_score,
    topic_distances,
    topic_distribution,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
BROADER = {"refund": ["billing"], "invoice": ["billing"], "billing": [], "vpn": ["network"], "network": []}


def test_model2_sums_relevance_times_association() -> None:
    assoc = {"c1": [Association("ann", "c1", "RESOLVED_BY", 1.0)],
             "c2": [Association("ann", "c2", "RESOLVED_BY", 0.5), Association("bob", "c2", "AUTHORED", 0.8)]}
    scores = aggregate_model2({"c1": 0.6, "c2": 0.4, "c3": 0.9}, assoc)
    assert scores["ann"].documents == pytest.approx(0.6 * 1.0 + 0.4 * 0.5)
    assert scores["bob"].documents == pytest.approx(0.4 * 0.8)
    assert [c.item for c in scores["ann"].contributions] == ["c1", "c2"]


def test_relevance_is_a_distribution_favouring_the_top() -> None:
    rel = relevance_from_scores({"a": 0.8, "b": 0.7, "c": 0.2}, temperature=0.05)
    assert sum(rel.values()) == pytest.approx(1.0)
    assert rel["a"] > rel["b"] > rel["c"]
    assert rel["a"] / rel["b"] == pytest.approx(2.718281828 ** 2)
    assert relevance_from_scores({}, 0.05) == {}


def test_recency_halves_every_half_life_and_outcome_counts() -> None:
    assert recency_weight(NOW, NOW, 365) == 1.0
    assert recency_weight(NOW - timedelta(days=365), NOW, 365) == pytest.approx(0.5)
    assert recency_weight(None, NOW, 365) == 1.0
    w = Weights()
    assert case_weight("resolved", NOW, NOW, w) > case_weight("closed", NOW, NOW, w) > 0
    assert case_weight("open", NOW, NOW, w) == 0.0


def test_topic_distances_go_both_ways_along_broader() -> None:
    assert topic_distances("refund", BROADER) == {"refund": 0, "billing": 1, "invoice": 2}
    assert topic_distances("billing", BROADER, max_hops=1) == {"billing": 0, "refund": 1, "invoice": 1}
    assert "vpn" not in topic_distances("refund", BROADER)


def test_skill_score_discounts_per_hop() -> None:
    exact, matches = skill_score({"refund": 5}, {"refund": 1.0}, BROADER, hop_decay=0.5)
    sibling, _ = skill_score({"invoice": 5}, {"refund": 1.0}, BROADER, hop_decay=0.5)
    unrelated, none = skill_score({"vpn": 5}, {"refund": 1.0}, BROADER, hop_decay=0.5)
    assert exact == pytest.approx(1.0) and matches == [("refund", "refund", 5, 0)]
    assert sibling == pytest.approx(0.25)
    assert unrelated == 0.0 and none == []


def test_topic_distribution_mixes_retrieved_and_explicit_topics() -> None:
    dist = topic_distribution({"c1": ["refund"], "c2": ["refund", "invoice"]}, {"c1": 0.5, "c2": 0.5}, ["vpn"])
    assert sum(dist.values()) == pytest.approx(1.0)
    assert dist["refund"] == pytest.approx(0.375) and dist["vpn"] == pytest.approx(0.5)


def test_load_penalty_shrinks_with_open_cases() -> None:
    assert load_penalty(0, 0.1) == 1.0
    assert load_penalty(10, 0.1) == pytest.approx(0.5)


def test_rank_combines_documents_skills_ownership_and_load() -> None:
    relevance = {"c1": 0.7, "c2": 0.3}
    assoc = {"c1": [Association("ann", "c1", "RESOLVED_BY", 1.0)], "c2": [Association("bob", "c2", "RESOLVED_BY", 1.0)]}
    topics = {"c1": ["refund"], "c2": ["refund"]}
    profiles = {"ann": ExpertProfile("ann", skills={"refund": 2}, activity=1),
                "bob": ExpertProfile("bob", skills={"refund": 5}, activity=1),
                "cat": ExpertProfile("cat", skills={"vpn": 5}, owns=frozenset({"CUS-1"}), activity=1)}
    ranked = rank(relevance, assoc, topics, profiles, BROADER, Weights())
    assert [e.expert for e in ranked][:2] == ["ann", "bob"] and ranked[0].documents == pytest.approx(0.7)
    skill_heavy = rank(relevance, assoc, topics, profiles, BROADER, Weights(skill=2.0))
    assert skill_heavy[0].expert == "bob"
    owner = rank(relevance, assoc, topics, profiles, BROADER, Weights(ownership=5.0), targets=frozenset({"CUS-1"}))
    assert owner[0].expert == "cat" and owner[0].ownership == 1.0
    loaded = dict(profiles, ann=ExpertProfile("ann", skills={"refund": 2}, open_cases=40, activity=1))
    assert rank(relevance, assoc, topics, loaded, BROADER, Weights(load_penalty=1.0))[0].expert == "bob"


def _busy_and_specialist() -> tuple[dict[str, float], dict[str, list[Association]], dict[str, ExpertProfile]]:
    """Staff member `sam` answers everything (high prior); `kim` answered the two threads the query is about."""
    relevance = {"t1": 0.6, "t2": 0.35, "t3": 0.05}
    assoc = {"t1": [Association("kim", "t1", "ANSWERED", 1.0), Association("sam", "t1", "ANSWERED", 0.5)],
             "t2": [Association("kim", "t2", "ANSWERED", 1.0)], "t3": [Association("sam", "t3", "ANSWERED", 1.0)]}
    profiles = {"sam": ExpertProfile("sam", activity=40.0), "kim": ExpertProfile("kim", activity=10.0),
                "lee": ExpertProfile("lee", activity=0.0)}
    return relevance, assoc, profiles


def test_product_combination_lets_text_rerank_the_busy_without_outvoting_them() -> None:
    relevance, assoc, profiles = _busy_and_specialist()
    product = Weights(combination="product", prior=1.0, skill=0.0, ownership=0.0, load_penalty=0.0)

    def order(weights: Weights) -> list[str]:
        return [e.expert for e in rank(relevance, assoc, {}, profiles, {}, weights)]

    assert order(replace(product, text_exponent=0.0))[:2] == ["sam", "kim"], "exponent 0: the activity prior alone"
    assert order(replace(product, prior=0.0))[0] == "kim", "prior exponent 0: the text evidence alone"
    # kim has 1/4 of sam's activity and about 2.7 times his evidence: a small exponent keeps sam first,
    # a large one lets the specialist through
    assert order(replace(product, text_exponent=0.25))[0] == "sam"
    assert order(replace(product, text_exponent=2.0))[0] == "kim"
    lee = next(e for e in rank(relevance, assoc, {}, profiles, {}, product) if e.expert == "lee")
    assert lee.score > 0 and not has_evidence(lee), "floors keep scores positive; nothing speaks for lee"


def test_activity_prior_weighs_resolved_items_by_age() -> None:
    dates = [NOW - timedelta(days=7), NOW - timedelta(days=14), None]
    assert activity(dates, NOW, 0.0) == 3.0
    assert activity(dates, NOW, 7.0) == pytest.approx(0.5 + 0.25 + 1.0)
    later = NOW + timedelta(days=30)  # a cached profile: every candidate decays by the same factor
    assert activity(dates[:2], later, 7.0) / activity(dates[:1], later, 7.0) == pytest.approx(1.5)


def test_presets_and_combinations_are_checked() -> None:
    assert preset("sample") == Weights() and preset("forums") is FORUM_WEIGHTS
    assert FORUM_WEIGHTS.combination == "product"
    with pytest.raises(ValueError, match="unknown expert ranking 'x'"):
        preset("x")
    with pytest.raises(ValueError, match="combination must be one of"):
        Weights(combination="max")


def test_prior_mix_multiplies_one_prior_per_half_life() -> None:
    relevance, assoc, profiles = _busy_and_specialist()
    # sam: busy over the quarter, quiet this week; kim: the one answering today
    profiles = {"sam": replace(profiles["sam"], activities=(0.5, 40.0)),
                "kim": replace(profiles["kim"], activities=(4.0, 10.0)), "lee": replace(profiles["lee"], activities=(0.0, 0.0))}
    mixed = Weights(combination="product", skill=0.0, ownership=0.0, load_penalty=0.0, text_exponent=0.0,
                    prior_mix=((1.0, 1.0), (90.0, 0.2)))
    ranked = rank(relevance, assoc, {}, profiles, {}, mixed)
    assert [e.expert for e in ranked][:2] == ["kim", "sam"], "the day's burst outweighs the quarter at exponent 0.2"
    kim = ranked[0]
    assert kim.priors == pytest.approx((1.0, 0.25))
    assert kim.score == pytest.approx((PRIOR_FLOOR + 1.0) * (PRIOR_FLOOR + 0.25) ** 0.2)
    quarter = replace(mixed, prior_mix=((1.0, 0.2), (90.0, 1.0)))
    assert rank(relevance, assoc, {}, profiles, {}, quarter)[0].expert == "sam"
    lee = next(e for e in ranked if e.expert == "lee")
    assert not has_evidence(lee)


def test_prior_mix_is_checked() -> None:
    with pytest.raises(ValueError, match="prior_mix needs combination='product'"):
        Weights(prior_mix=((1.0, 1.0),))
    relevance, assoc, profiles = _busy_and_specialist()
    with pytest.raises(ValueError, match="has 0 activities"):
        rank(relevance, assoc, {}, profiles, {}, Weights(combination="product", prior_mix=((1.0, 1.0),)))


def test_activities_are_activity_at_each_half_life() -> None:
    dates = [NOW - timedelta(days=7), None]
    assert activities(dates, NOW, (0.0, 7.0)) == pytest.approx((2.0, 1.5))
    assert activities(iter(dates), NOW, ()) == ()
    assert FORUM_WEIGHTS.prior_half_lives == tuple(h for h, _ in FORUM_WEIGHTS.prior_mix)
