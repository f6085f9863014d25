"""Ranking metrics against values computed by hand."""

from __future__ import annotations

import math

import pytest

from kcrm.evaluation.metrics import dcg, evaluate, mrr_at_k, ndcg_at_k, recall_at_k


def test_dcg_discounts_by_log2_of_rank_plus_one() -> None:
    assert dcg([3, 2, 3, 0, 1, 2]) == pytest.approx(3 + 2 / math.log2(3) + 3 / 2 + 0 + 1 / math.log2(6) + 2 / math.log2(7))


def test_ndcg_of_a_graded_ranking() -> None:
    judged = {"a": 3, "b": 2, "c": 3, "e": 1, "f": 2}
    ranked = ["a", "b", "c", "d", "e", "f"]
    actual = 3 + 2 / math.log2(3) + 3 / 2 + 0 + 1 / math.log2(6) + 2 / math.log2(7)
    ideal = 3 + 3 / math.log2(3) + 2 / 2 + 2 / math.log2(5) + 1 / math.log2(6)
    assert ndcg_at_k(ranked, judged, k=10) == pytest.approx(actual / ideal)  # 6.8612 / 7.1410
    assert ndcg_at_k(ranked, judged, k=10) == pytest.approx(0.96081, abs=1e-4)


def test_ndcg_cut_off_and_binary_cases() -> None:
    judged = {"x": 1}
    assert ndcg_at_k(["x"], judged) == 1.0
    assert ndcg_at_k(["y", "x"], judged) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["y"] * 10 + ["x"], judged, k=10) == 0.0
    assert ndcg_at_k(["x", "x"], {"x": 1, "z": 1}) == pytest.approx(1 / (1 + 1 / math.log2(3)))  # repeats gain once
    assert ndcg_at_k(["x"], {"x": 0}) == 0.0


def test_mrr_is_the_reciprocal_rank_of_the_first_relevant_hit_within_k() -> None:
    judged = {"c": 1, "d": 1}
    assert mrr_at_k(["a", "b", "c", "d"], judged) == pytest.approx(1 / 3)
    assert mrr_at_k(["c"], judged) == 1.0
    assert mrr_at_k(["a"] * 10 + ["c"], judged, k=10) == 0.0


def test_recall_counts_relevant_documents_found_within_k() -> None:
    judged = {"a": 1, "b": 2, "c": 1, "z": 0}
    assert recall_at_k(["a", "x", "b"], judged, k=100) == pytest.approx(2 / 3)
    assert recall_at_k(["x", "a"], judged, k=1) == 0.0


def test_evaluate_averages_over_judged_queries_and_counts_missing_runs_as_zero() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1, "c": 1}, "q3": {"d": 1}, "q0": {"x": 0}}
    run = {"q1": ["a"], "q2": ["x", "c"]}  # q3 absent, q0 has no relevant document
    result = evaluate(run, qrels)
    assert result["mrr@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert result["recall@100"] == pytest.approx((1 + 0.5 + 0) / 3)
    q2_ndcg = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert result["ndcg@10"] == pytest.approx((1 + q2_ndcg + 0) / 3)


def test_evaluate_refuses_judgments_without_relevant_documents() -> None:
    with pytest.raises(ValueError, match="no query has a relevant document"):
        evaluate({}, {"q": {"a": 0}})
