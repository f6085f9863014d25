"""The arithmetic of expert ranking: Model 2 aggregation, weights, taxonomy propagation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kcrm.kg.expert_scoring import (
    Association,
    ExpertProfile,
    Weights,
    aggregate_model2,
    case_weight,
    load_penalty,
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
