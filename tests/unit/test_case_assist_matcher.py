"""How the case assistant merges rules from similar cases and the customer (entities: test_entity_ruler)."""

from __future__ import annotations

from kcrm.kg.case_assist import merge_rules


def test_rules_from_cases_and_customer_are_merged() -> None:
    pol = {"uid": "POL-1", "type": "Policy", "title": "Refund"}
    rule = {"uid": "RULE-1", "type": "IndustryRule", "title": "GDPR"}
    merged = merge_rules([("C1", pol), ("C2", pol), ("C2", rule)], [{**rule, "via": ["GOVERNED_BY"]}])
    assert [(r["uid"], r["cases"], r["customer"]) for r in merged] == [("RULE-1", ["C2"], True),
                                                                        ("POL-1", ["C1", "C2"], False)]
