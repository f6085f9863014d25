"""Cross-sell recommendations and segments on small hand-made customer bases."""

from __future__ import annotations

import pytest

from kcrm.kg.mining.crosssell import customer_baskets, recommend
from kcrm.kg.mining.segments import mine_segments
from tests.unit.mining_data import AS_OF, every, orders

# 10 customers: A is owned by 8, B by 7 (6 of them with A), C by everybody
BASKETS = {
    **{f"AB{k}": {"A", "B", "C"} for k in range(6)},
    "A6": {"A", "C"}, "A7": {"A", "C"}, "B8": {"B", "C"}, "N9": {"C"},
}


def test_recommends_what_similar_customers_own_scored_by_confidence() -> None:
    rules, recs = recommend(BASKETS, min_support=0.2, min_confidence=0.5)
    assert {(r.antecedent, r.consequent[0]) for r in rules} == {
        (("A",), "B"), (("B",), "A"), (("A", "C"), "B"), (("B", "C"), "A")}  # C is in every basket
    for customer in ("A6", "A7"):
        (rec,) = recs[customer]
        assert (rec.product, rec.because) == ("B", ("A",))
        assert rec.score == pytest.approx(6 / 8, abs=1e-4) and rec.lift == pytest.approx((6 / 8) / (7 / 10))
    (rec,) = recs["B8"]
    assert rec.product == "A" and rec.score == pytest.approx(6 / 7, abs=1e-4)
    assert "AB0" not in recs and "N9" not in recs  # owns everything suggested / owns no antecedent


def test_rules_with_lift_not_above_one_recommend_nothing() -> None:
    rules, _ = recommend(BASKETS, min_support=0.2, min_confidence=0.5)
    assert all(r.consequent != ("C",) for r in rules)  # C => everyone: lift exactly 1


def test_reason_uses_product_names_and_per_customer_limit() -> None:
    _, recs = recommend(BASKETS, min_support=0.2, min_confidence=0.5, per_customer=1)
    reason = recs["A6"][0].reason({"A": "Laser printer", "B": "Toner"})
    assert reason == "75% of customers who bought Laser printer also bought Toner (lift 1.07)"


def test_customer_baskets_union_all_orders() -> None:
    history = {"C1": orders("C1", [30], products=("X", "Y")) + orders("C1", [10], products=("Y", "Z"))}
    assert customer_baskets(history) == {"C1": {"X", "Y", "Z"}}


def _two_kinds() -> dict:
    base = {}
    for k in range(12):  # big, frequent, recent, broad
        base[f"BIG{k}"] = orders(f"BIG{k}", every(10, 700 + 7 * k, 0), amount=5000.0 + 100 * k,
                                 products=("P1", "P2", "P3", "P4", "P5"))
    for k in range(12):  # small, rare, lapsed, narrow
        base[f"SML{k}"] = orders(f"SML{k}", every(120, 900 + 5 * k, 400), amount=50.0 + k, products=("P1",))
    return base


def test_segments_separate_obvious_groups_and_describe_them() -> None:
    segments = mine_segments(_two_kinds(), {}, AS_OF, k_range=range(2, 5))
    assert len(segments) == 2
    first, second = segments
    assert set(first.members) == {f"BIG{k}" for k in range(12)}
    assert set(second.members) == {f"SML{k}" for k in range(12)}
    assert first.description.startswith("12 customers (50%). Median spend")
    high = {"recently active", "frequent buyers", "high spend", "large orders", "broad range"}
    low = {"lapsed", "occasional buyers", "low spend", "small orders", "narrow range"}
    assert set(first.name.lower().split(", ")) <= high and set(second.name.lower().split(", ")) <= low
    assert first.name_zh and first.description_zh.startswith("12 位客户")
    assert first.medians["spend"] > 100 * second.medians["spend"]


def test_segments_are_deterministic_and_k_can_be_forced() -> None:
    base = _two_kinds()
    assert mine_segments(base, {}, AS_OF) == mine_segments(base, {}, AS_OF)
    assert len(mine_segments(base, {}, AS_OF, k=4)) == 4
    assert mine_segments({"ONLY": orders("ONLY", [5])}, {}, AS_OF) == []
