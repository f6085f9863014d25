"""Deviations: sudden changes in spend or case volume against the customer's own past."""

from __future__ import annotations

from datetime import timedelta

from kcrm.kg.mining.deviations import customer_deviation, deviations
from tests.unit.mining_data import AS_OF, every, orders


def test_steady_customer_is_not_flagged() -> None:
    result = customer_deviation("C", orders("C", every(30, 720, 0)), [AS_OF - timedelta(days=d) for d in (400, 100)],
                                AS_OF)
    assert not result.flagged and result.reason == ""


def test_spend_jump_is_flagged_with_the_numbers() -> None:
    days = every(30, 720, 0)
    amounts = [1000.0 if d < 90 else 100.0 for d in days]  # 60 and 30 days ago: 2 x 1000; before 3 x 100
    result = customer_deviation("C", orders("C", days, amount=amounts), [], AS_OF)
    assert result.reasons == ("spend in the last 90 days up to 2,000 from a usual 300 per 90 days",)


def test_spend_collapse_is_flagged_too() -> None:
    days = every(10, 720, 90)  # every 10 days, then nothing in the last 90 days
    result = customer_deviation("C", orders("C", days), [], AS_OF)
    assert result.flagged and "down to 0 from a usual 900" in result.reason


def test_case_surge_is_flagged_but_an_ordinary_count_is_not() -> None:
    steady = [AS_OF - timedelta(days=d) for d in every(90, 720, 0)]  # one case per window
    surge = steady + [AS_OF - timedelta(days=d) for d in (5, 10, 20, 30, 40)]
    assert not customer_deviation("C", [], steady, AS_OF).flagged
    result = customer_deviation("C", [], surge, AS_OF)
    assert result.reasons == ("5 support cases in the last 90 days against about 1.0 per 90 days before",)


def test_rare_buyers_and_newcomers_are_left_alone() -> None:
    rare = orders("C", [700, 400, 30])  # most windows empty: no usual spend
    assert not customer_deviation("C", rare, [], AS_OF).flagged
    new = orders("N", [100, 50, 10], amount=[10.0, 10.0, 5000.0])  # too few earlier windows
    assert not customer_deviation("N", new, [], AS_OF).flagged
    assert set(deviations({"C": rare}, {"K": [AS_OF]}, AS_OF)) == {"C", "K"}
