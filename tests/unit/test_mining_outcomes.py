"""Outcome uplift: matching, the interval, pending windows and product offers, on hand-checkable histories;
and the sample company's planted effects, recovered from its records without a graph."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kcrm.foundation.errors import MiningInputError
from kcrm.kg.mining.history import Order
from kcrm.kg.mining.outcomes import RULES, Z95, ActionEvent, estimate_outcomes
from kcrm.sample import build_sample_with_truth, generate_sample

DAY = datetime(2026, 3, 2, tzinfo=UTC)
AS_OF = datetime(2026, 12, 31, tzinfo=UTC)


def history(customer: str, after: list[int], products: tuple[str, ...] = ("P1",),
            owned: tuple[str, ...] = ()) -> list[Order]:
    """The same year of monthly orders before DAY for everyone (so all share a stratum), then orders
    `after` days after DAY; `owned` products bought once long before."""
    before = [Order(f"{customer}-b{n}", customer, DAY - timedelta(days=30 * n), 100.0, ("P1",))
              for n in range(12, 0, -1)]
    if owned:
        before.insert(0, Order(f"{customer}-o", customer, DAY - timedelta(days=400), 100.0, owned))
    later = [Order(f"{customer}-a{d}", customer, DAY + timedelta(days=d), 100.0, products) for d in after]
    return before + later


def call(uid: str, customer: str, kind: str = "retention-call", at: datetime = DAY,
         product: str | None = None) -> ActionEvent:
    return ActionEvent(uid, customer, kind, at + timedelta(hours=10), product)


def test_uplift_is_treated_rate_minus_matched_rate_with_the_stated_interval() -> None:
    orders = {"A": history("A", [20]), "B": history("B", [40]), "C": history("C", [50]), "D": history("D", [])}
    segments = dict.fromkeys(orders, "SEG-X")
    result = estimate_outcomes(orders, segments, [call("a1", "A"), call("a2", "B")], AS_OF)
    e = result.estimates["retention-call"]
    assert (e.actions, e.matched, e.controls, e.pending) == (2, 2, 2, 0)
    assert e.treated_rate == 1.0 and e.control_rate == 0.5 and e.uplift == 0.5
    # diffs are both 0.5 (no spread); one cell of 2 actions against 2 controls, 1 of which ordered:
    # q = (1 + 1) / (2 + 2) = 0.5, SE^2 = (2/2)^2 * 0.25 / 2
    half = Z95 * math.sqrt(0.125)
    assert e.ci_low == pytest.approx(0.5 - half) and e.ci_high == 1.0
    assert result.observed == {"a1": True, "a2": True}


def test_matching_removes_what_a_naive_comparison_gets_wrong() -> None:
    # Segment X always orders, Y never does; the calls went mostly to X and changed nothing.
    orders = {f"X{n}": history(f"X{n}", [10]) for n in range(6)} | {f"Y{n}": history(f"Y{n}", []) for n in range(6)}
    segments = {c: "SEG-" + c[0] for c in orders}
    actions = [call(f"a{n}", f"X{n}") for n in range(4)] + [call("a9", "Y0")]
    e = estimate_outcomes(orders, segments, actions, AS_OF).estimates["retention-call"]
    assert e.uplift == 0.0 and e.ci_low < 0.0 < e.ci_high
    assert e.naive_uplift is not None and e.naive_uplift > 0.3  # 4/5 ordered against 2/7 of the rest


def test_an_action_whose_window_is_still_open_is_pending_not_measured() -> None:
    orders = {"A": history("A", [5]), "B": history("B", [])}
    late = call("a1", "A", at=AS_OF - timedelta(days=10))
    e = estimate_outcomes(orders, dict.fromkeys(orders, "S"), [late], AS_OF).estimates["retention-call"]
    assert (e.actions, e.pending, e.matched, e.uplift) == (1, 1, 0, None)


def test_an_action_without_a_comparable_customer_is_left_unmatched() -> None:
    orders = {"A": history("A", [5]), "B": history("B", [])}
    e = estimate_outcomes(orders, {"A": "S1", "B": "S2"}, [call("a1", "A")], AS_OF).estimates["retention-call"]
    assert (e.actions, e.matched, e.uplift) == (1, 0, None)


def test_offers_compare_against_customers_who_did_not_own_the_product() -> None:
    kind = "crosssell-offer"
    # A was offered P9 and bought it; B never owned it and did not buy; C owned it and bought it again.
    orders = {"A": history("A", [30], ("P9",)), "B": history("B", [30]), "C": history("C", [30], ("P9",), owned=("P9",))}
    actions = [call("a1", "A", kind, product="P9")]
    e = estimate_outcomes(orders, dict.fromkeys(orders, "S"), actions, AS_OF).estimates[kind]
    assert e.measure == "bought-product" and e.controls == 1 and e.control_rate == 0.0 and e.uplift == 1.0


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(MiningInputError, match="phone-survey"):
        estimate_outcomes({}, {}, [call("a1", "A", "phone-survey")], AS_OF)


def _sample_inputs(data: dict) -> tuple[dict, dict, list[ActionEvent], datetime]:
    price = {p["uid"]: p["props"]["price"] for p in data["Product"]}
    orders: dict[str, list[Order]] = defaultdict(list)
    for t in data["Transaction"]:
        customer = next(r["from"] for r in t["rels"] if r["type"] == "PLACED")
        lines = [r for r in t["rels"] if r["type"] == "CONTAINS"]
        orders[customer].append(Order(t["uid"], customer, datetime.fromisoformat(t["props"]["orderedAt"]),
                                      sum(r["props"]["quantity"] * price[r["to"]] for r in lines),
                                      tuple(sorted({r["to"] for r in lines}))))
    for found in orders.values():
        found.sort(key=lambda o: (o.at, o.uid))
    segments = {c["uid"]: next(r["to"] for r in c["rels"] if r["type"] == "IN_SEGMENT") for c in data["Customer"]}
    actions = []
    for a in data["Action"]:
        ends = {r["type"]: r.get("to") for r in a["rels"]}
        actions.append(ActionEvent(a["uid"], ends["ACTION_ON"], a["props"]["actionKind"],
                                   datetime.fromisoformat(a["props"]["actedAt"]), ends.get("OFFERED")))
    as_of = max(o.at for found in orders.values() for o in found)
    return dict(orders), segments, actions, as_of


def test_the_sample_records_true_effects_and_the_estimator_recovers_them(tmp_path: Path) -> None:
    data, truth = build_sample_with_truth(42)
    assert set(truth) == set(RULES)
    for kind, planted in truth.items():
        assert planted["measure"] == RULES[kind].measure and planted["windowDays"] == RULES[kind].window_days
        assert planted["actions"] == sum(a["props"]["actionKind"] == kind for a in data["Action"]) >= 30
        assert 0.05 < planted["trueUplift"] < 1  # realised: near `lift` times the share who would not have
    generate_sample(tmp_path, seed=42)
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["actions"] == truth
    result = estimate_outcomes(*_sample_inputs(data))
    for kind, planted in truth.items():
        e = result.estimates[kind]
        assert e.matched >= 0.8 * planted["actions"], kind
        assert e.ci_low is not None and e.ci_high is not None
        assert e.ci_low <= planted["trueUplift"] <= e.ci_high, (kind, planted, e.as_dict())
        assert e.ci_low > 0, (kind, e.as_dict())  # every drive worked, and the interval says so


def test_actions_follow_their_recommendation_and_restricted_customers_restrict_them() -> None:
    data, _ = build_sample_with_truth(42)
    customers = {c["uid"]: c for c in data["Customer"]}
    restricted_orders = {next(r["from"] for r in t["rels"] if r["type"] == "PLACED")
                         for t in data["Transaction"] if t["props"].get("accessGroups")}
    for a in data["Action"]:
        kind = a["props"]["actionKind"]
        ends = {r["type"]: r.get("to") or r.get("from") for r in a["rels"]}
        assert a["props"]["recommendation"] == RULES[kind].recommendation
        assert ends["ACTION_ON"] in customers and ends["PERFORMED"].startswith("EMP-")
        assert ("OFFERED" in ends) == (kind == "crosssell-offer")
        assert ("FOLLOWS" in ends) == (kind == "campaign-send")
        assert bool(a["props"].get("accessGroups")) == (ends["ACTION_ON"] in restricted_orders)
    assert any(a["props"].get("accessGroups") for a in data["Action"])
