"""Churn: the rules with their reasons, features without look-ahead, and the time-split model."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from kcrm.foundation.errors import MiningInputError
from kcrm.kg.mining.churn import FEATURES, cadence_days, churn_features, churn_signal, no_order_within
from kcrm.kg.mining.churn_model import train_and_score
from tests.unit.mining_data import AS_OF, every, orders


def test_cadence_is_the_median_gap() -> None:
    assert cadence_days(orders("C", [100, 90, 70, 40])) == 20.0
    assert cadence_days(orders("C", [5])) is None


def test_regular_buyer_on_rhythm_gets_no_warning() -> None:
    signal = churn_signal("C", orders("C", every(30, 720, 0)), AS_OF)
    assert not signal.warning and signal.reason == "" and signal.cadence_days == 30


def test_inactivity_beyond_own_cadence_is_flagged_with_the_numbers() -> None:
    signal = churn_signal("C", orders("C", every(30, 820, 99)), AS_OF)
    assert signal.warning and signal.days_since_last == 100
    assert "no order for 100 days, 3.3x their usual interval of 30 days" in signal.reason


def test_a_year_without_orders_is_lapsed_whatever_the_history() -> None:
    signal = churn_signal("C", orders("C", [900, 400]), AS_OF)
    assert signal.warning and signal.reason == "lapsed: no order for 400 days"


def test_a_slow_buyer_is_not_flagged_for_the_same_gap() -> None:
    signal = churn_signal("C", orders("C", every(90, 910, 99)), AS_OF)
    assert signal.days_since_last == 100 and not signal.warning, signal.reason


def test_falling_frequency_is_flagged() -> None:
    days = every(10, 900, 180) + [170, 100]  # every 10 days, then 2 orders in the last 180 days
    signal = churn_signal("C", orders("C", days), AS_OF)
    assert signal.warning
    assert "2 orders in the last 180 days against about 18.0 per 180 days before" in signal.reason


def test_falling_spend_is_flagged() -> None:
    days = every(30, 900, 0)
    amounts = [1000.0 if d >= 180 else 100.0 for d in days]
    signal = churn_signal("C", orders("C", days, amount=amounts), AS_OF)
    # before: 25 orders of 1000 over 720 days = 6,250 per 180 days; last 180 days: 5 x 100 = 500
    assert signal.warning and signal.reason == "spend in the last 180 days down 92% on their earlier rate"


def test_features_see_nothing_after_the_cutoff_and_the_label_sees_only_after() -> None:
    history = orders("C", [400, 300, 200, 150, 100, 20])
    cutoff = AS_OF - timedelta(days=120)
    features = churn_features(history, [], cutoff, default_cadence=30.0)
    assert features == churn_features(history[:-2], [], cutoff, default_cadence=30.0)  # 100 and 20 days ago are later
    assert dict(zip(FEATURES, features))["days_since_last"] == pytest.approx(30.0)
    assert not no_order_within(history, cutoff, 60)  # the order 100 days ago is 20 days after the cutoff
    assert no_order_within(history, AS_OF - timedelta(days=99), 60)
    assert churn_features(history, [], AS_OF - timedelta(days=500), 30.0) is None


def _population(seed: int, n: int = 160) -> dict:
    """Regular buyers; a third stop at some point in the last two years."""
    rng = random.Random(seed)
    base = {}
    for k in range(n):
        cadence = rng.choice([15, 30, 45])
        stop = rng.randint(0, 700) if k % 3 == 0 else -10
        days = [d for d in every(cadence, 1100 - rng.randint(0, cadence), 0) if d > stop]
        base[f"C{k:03d}"] = orders(f"C{k:03d}", days)
    return base


def test_model_trained_on_earlier_periods_predicts_the_held_out_one() -> None:
    base = _population(1)
    scores = train_and_score(base, {}, AS_OF, horizon_days=120)
    evaluation = scores.evaluation
    assert evaluation is not None, scores.note
    test_cutoff = AS_OF - timedelta(days=120)
    assert evaluation.test_cutoff == test_cutoff.isoformat()
    assert all(c <= (test_cutoff - timedelta(days=120)).isoformat() for c in evaluation.train_cutoffs)
    assert evaluation.precision > evaluation.test_churn_rate + 0.3 and evaluation.recall > 0.6
    silent = {c: (AS_OF - os[-1].at).days for c, os in base.items()}
    assert all(scores.risk[c] > 0.5 for c, days in silent.items() if 200 < days <= 365)
    assert all(scores.risk[c] < 0.5 for c, days in silent.items() if days < 30)
    assert set(scores.risk) == {c for c, days in silent.items() if days <= 365}  # lapsed: the rules' call
    assert all(0 <= p <= 1 for p in scores.risk.values())


def test_too_little_history_gives_no_model_but_a_note() -> None:
    base = {f"C{k}": orders(f"C{k}", [50, 20]) for k in range(30)}
    scores = train_and_score(base, {}, AS_OF)
    assert scores.evaluation is None and scores.risk == {} and scores.note


def test_unknown_model_is_refused() -> None:
    with pytest.raises(MiningInputError, match="unknown churn model"):
        train_and_score(_population(2, 20), {}, AS_OF, model="crystal-ball")
