"""Rank fusion: reciprocal rank fusion and min-max score fusion, by hand-computed values."""

from __future__ import annotations

import pytest

from kcrm.search.fusion import RRF, ScoreFusion, min_max, reciprocal_rank_fusion, score_fusion

LEXICAL = [("a", 12.0), ("b", 9.0), ("c", 1.0)]
DENSE = [("b", 0.9), ("d", 0.8), ("a", 0.1)]


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([LEXICAL, DENSE], k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 63)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)


def test_rrf_orders_best_first_and_an_item_in_both_lists_wins() -> None:
    assert [item for item, _ in reciprocal_rank_fusion([LEXICAL, DENSE])] == ["b", "a", "d", "c"]


def test_rrf_ignores_raw_scores() -> None:
    rescaled = [(item, score * 1000) for item, score in DENSE]
    assert reciprocal_rank_fusion([LEXICAL, DENSE]) == reciprocal_rank_fusion([LEXICAL, rescaled])


def test_rrf_weights_scale_each_list() -> None:
    fused = dict(reciprocal_rank_fusion([LEXICAL, DENSE], k=0, weights=[0.25, 0.75]))
    assert fused["a"] == pytest.approx(0.25 / 1 + 0.75 / 3)
    assert fused["d"] == pytest.approx(0.75 / 2)


def test_ties_keep_first_appearance_order() -> None:
    assert [i for i, _ in reciprocal_rank_fusion([[("x", 1.0)], [("y", 1.0)]])] == ["x", "y"]


def test_min_max_and_score_fusion() -> None:
    assert min_max(LEXICAL) == [("a", 1.0), ("b", pytest.approx(8 / 11)), ("c", 0.0)]
    assert min_max([("only", 3.0)]) == [("only", 1.0)]
    fused = dict(score_fusion([LEXICAL, DENSE], weights=[0.5, 0.5]))
    assert fused["a"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.0)
    assert fused["b"] == pytest.approx(0.5 * 8 / 11 + 0.5 * 1.0)
    assert fused["d"] == pytest.approx(0.5 * (0.7 / 0.8))


def test_empty_inputs_and_bad_weights() -> None:
    assert reciprocal_rank_fusion([[], []]) == []
    with pytest.raises(ValueError, match="2 weights for 1 rankings"):
        reciprocal_rank_fusion([LEXICAL], weights=[1, 1])
    with pytest.raises(ValueError, match="negative"):
        score_fusion([LEXICAL], weights=[-1])


def test_fusion_objects_name_their_parameters() -> None:
    assert RRF().name == "rrf(k=60)"
    assert RRF(weights=(0.3, 0.7)).name == "rrf(k=60,w=0.3/0.7)"
    assert ScoreFusion(weights=(0.5, 0.5)).name == "minmax(w=0.5/0.5)"
    assert RRF(k=1).fuse([LEXICAL])[0] == ("a", 0.5)


def test_ceilings_are_the_score_of_an_item_first_everywhere() -> None:
    rrf = RRF(k=60, weights=(0.3, 0.7))
    best = rrf.fuse([[("a", 1.0)], [("a", 1.0)]])[0][1]
    assert rrf.ceiling(2) == pytest.approx(best) == pytest.approx(1 / 61)
    minmax = ScoreFusion()
    assert minmax.ceiling(2) == minmax.fuse([LEXICAL, [("a", 3.0), ("b", 1.0)]])[0][1] == 2.0


def test_language_fusion_picks_the_fusion_of_the_query_language() -> None:
    from kcrm.search.fusion import LanguageFusion

    english, chinese = ScoreFusion(weights=(0.5, 0.5)), RRF(weights=(0.2, 0.8))
    policy = LanguageFusion(english=english, chinese=chinese)
    assert policy.for_query("退款申请被拒绝了") is chinese
    assert policy.for_query("refund request") is english
    assert policy.for_query("X200 打印机 卡纸") is chinese
    assert english.for_query("退款") is english  # a plain fusion is the same for every query
    assert policy.fuse([LEXICAL, LEXICAL]) == english.fuse([LEXICAL, LEXICAL]) and policy.ceiling(2) == english.ceiling(2)
    assert "zh=rrf" in policy.name
