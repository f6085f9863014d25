"""RFM scores, tiers and loyalty on a base small enough to check by hand."""

from __future__ import annotations

from kcrm.kg.mining.value import customer_values, quintile_scores
from tests.unit.mining_data import AS_OF, orders


def test_quintile_scores_by_rank_with_shared_ties() -> None:
    assert quintile_scores([10, 20, 30, 40, 50]) == [1, 2, 3, 4, 5]
    assert quintile_scores([50, 10, 30, 20, 40]) == [5, 1, 3, 2, 4]
    assert quintile_scores([7, 7, 7, 7]) == [4, 4, 4, 4]
    assert quintile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_scores([]) == []


def _base() -> dict:
    # customer k: k orders, last one 60 - 10k days ago, each worth 100k; the first order 400 days ago
    base = {}
    for k in range(1, 6):
        days = [400] + [60 - 10 * k] * (k - 1) if k > 1 else [60 - 10 * k]
        base[f"C{k}"] = orders(f"C{k}", sorted(days, reverse=True), amount=100.0 * k)
    return base


def test_rfm_facts_scores_and_tiers() -> None:
    values = customer_values(_base(), AS_OF)
    c1, c3, c4, c5 = values["C1"], values["C3"], values["C4"], values["C5"]
    assert (c1.recency_days, c1.frequency, c1.monetary) == (50, 1, 100.0)
    assert (c5.recency_days, c5.frequency, c5.monetary) == (10, 5, 2500.0)
    assert [(v.recency_score, v.frequency_score, v.monetary_score) for v in values.values()] == \
        [(k, k, k) for k in range(1, 6)]
    assert [values[f"C{k}"].tier for k in range(1, 6)] == ["bronze", "bronze", "silver", "gold", "platinum"]
    assert (c3.rfm_score, c4.rfm_score) == (9, 12)


def test_loyal_means_frequent_recent_and_at_least_a_year() -> None:
    values = customer_values(_base(), AS_OF)
    assert {c for c, v in values.items() if v.loyal} == {"C4", "C5"}
    young = _base()
    young["C5"] = orders("C5", [200, 50, 40, 30, 10], amount=500.0)
    assert not customer_values(young, AS_OF)["C5"].loyal


def test_orders_after_as_of_are_ignored_and_customers_without_orders_left_out() -> None:
    base = _base()
    base["LATE"] = orders("LATE", [-5])
    values = customer_values(base, AS_OF)
    assert "LATE" not in values and len(values) == 5
