"""The pure half of `kcrm mine`: risk levels, reasons, the rows written, and the ontology check."""

from __future__ import annotations

import dataclasses

import pytest

from kcrm.foundation.errors import MiningInputError, OntologyError
from kcrm.kg.mining.churn import ChurnSignal
from kcrm.kg.mining.history import History
from kcrm.kg.mining.pipeline import MiningConfig, churn_reason, mine_history, risk_level
from kcrm.kg.mining.writeback import CUSTOMER_PROPERTIES, graph_names
from kcrm.ontology.model import load_ontology
from tests.unit.test_mining_churn import _population


@pytest.mark.parametrize(("risk", "warning", "level"), [
    (0.9, False, "high"), (0.6, False, "high"), (0.45, False, "medium"), (0.1, True, "medium"),
    (0.1, False, "low"), (None, True, "high"), (None, False, "low"),
])
def test_risk_level(risk: float | None, warning: bool, level: str) -> None:
    assert risk_level(risk, warning) == level


def test_churn_reason_combines_rules_and_model() -> None:
    warned = ChurnSignal("C", True, ("no order for 100 days, 3.3x their usual interval of 30 days",), 100, 30.0)
    calm = ChurnSignal("C", False, (), 5, 30.0)
    assert churn_reason(warned, 0.1, "overdue") == warned.reasons[0]
    assert churn_reason(calm, 0.72, "a long time since the last order") == \
        "model: 72% chance of no order in the coming period, mainly a long time since the last order"
    assert churn_reason(calm, 0.05, "x") == "no warning sign: orders at the usual rhythm"


def test_mine_history_gives_a_complete_row_per_customer() -> None:
    base = _population(3, 90)
    history = History(customers={c: c for c in base}, orders=[o for os in base.values() for o in os])
    result = mine_history(history, MiningConfig(churn_horizon_days=120))
    rows = result.customer_rows()
    assert len(rows) == 90 and all(set(r["props"]) == set(CUSTOMER_PROPERTIES) for r in rows)
    assert all(r["props"]["churnRiskLevel"] in {"high", "medium", "low"} and r["props"]["churnReason"] for r in rows)
    summary = result.summary()
    assert summary["customers_valued"] == 90 and sum(summary["tiers"].values()) == 90
    assert sum(s["size"] for s in summary["segments"]) == 90


def test_writeback_refuses_an_ontology_without_what_it_writes() -> None:
    ontology = load_ontology()
    assert graph_names(ontology)["recommended"] == "RECOMMENDED"
    customer = ontology.classes["Customer"]
    props = {k: v for k, v in customer.properties.items() if k != "churnRisk"}
    crippled = dataclasses.replace(ontology, classes={**ontology.classes,
                                                      "Customer": dataclasses.replace(customer, properties=props)})
    with pytest.raises(OntologyError, match="Customer.churnRisk"):
        graph_names(crippled)
    no_rel = dataclasses.replace(ontology, relationships={k: v for k, v in ontology.relationships.items()
                                                          if k != "RECOMMENDED"})
    with pytest.raises(OntologyError, match="RECOMMENDED"):
        graph_names(no_rel)


def test_mined_properties_are_bilingual_in_the_ontology() -> None:
    ontology = load_ontology()
    for name in (*CUSTOMER_PROPERTIES, "computedAt", "computedBy", "score", "lift", "memberCount", "descriptionZh"):
        spec = ontology.datatype_properties[name]
        assert spec.label_en and spec.label_zh, name


@pytest.mark.parametrize("bad", [{"churn_model": "crystal-ball"}, {"churn_horizon_days": 0}, {"segments_k": 1},
                                 {"recommendations_per_customer": 0}])
def test_bad_configuration_is_refused_before_any_work(bad: dict) -> None:
    with pytest.raises(MiningInputError):
        MiningConfig(**bad)
