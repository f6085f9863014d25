"""Which APPLIES_TO rules can apply to a customer, by jurisdiction and language."""

from __future__ import annotations

from kcrm.kg.customer360 import applicable_rules, jurisdiction_covers


def _rule(uid: str, language: str, topics: list[str], jurisdiction: str | None = None,
          via: str = "APPLIES_TO CAT-HW") -> dict:
    return {"uid": uid, "type": "Policy", "title": uid, "via": [via], "jurisdiction": jurisdiction,
            "language": language, "topics": topics}


def test_jurisdictions_cover_their_countries() -> None:
    assert jurisdiction_covers("United Kingdom", "United Kingdom")
    assert not jurisdiction_covers("EU", "United Kingdom") and jurisdiction_covers("EU", "Ireland")
    assert jurisdiction_covers("中国大陆", "China") and not jurisdiction_covers("中国大陆", "United Kingdom")
    assert jurisdiction_covers("United States (California)", "United States")
    assert jurisdiction_covers("International (card schemes)", "Singapore")
    assert jurisdiction_covers(None, "China") and jurisdiction_covers("EU", None)


def test_uk_customer_loses_the_china_refund_policy_and_keeps_its_own() -> None:
    rules = [_rule("POL-001", "en", ["topic-refund"]), _rule("POL-002", "zh", ["topic-refund"]),
             _rule("POL-023", "zh", ["topic-invoice"]), _rule("POL-007", "en", ["topic-warranty"]),
             _rule("RULE-006", "en", ["topic-privacy"], "United Kingdom"), _rule("RULE-001", "en", ["topic-privacy"], "EU"),
             _rule("RULE-017", "zh", ["topic-refund"], "中国大陆")]
    kept = [r["uid"] for r in applicable_rules(rules, "United Kingdom", "en")]
    assert kept == ["POL-001", "POL-007", "RULE-006"]
    assert all("topics" not in r for r in applicable_rules(rules, "United Kingdom", "en"))


def test_chinese_customer_gets_the_local_variant_and_global_english_policies() -> None:
    rules = [_rule("POL-001", "en", ["topic-refund"]), _rule("POL-002", "zh", ["topic-refund"]),
             _rule("POL-007", "en", ["topic-warranty"]), _rule("RULE-017", "zh", ["topic-refund"], "中国大陆")]
    assert [r["uid"] for r in applicable_rules(rules, "China", "zh")] == ["POL-002", "POL-007", "RULE-017"]


def test_direct_bindings_and_unknown_customers_keep_everything() -> None:
    bound = _rule("RULE-001", "en", ["topic-privacy"], "EU", via="GOVERNED_BY")
    assert applicable_rules([bound], "China", "zh")[0]["uid"] == "RULE-001"
    rules = [_rule("POL-002", "zh", ["topic-refund"]), _rule("RULE-006", "en", [], "United Kingdom")]
    assert len(applicable_rules(rules, None, None)) == 2


def test_international_excluding_a_country_leaves_that_country_out() -> None:
    assert jurisdiction_covers("International (excluding China)", "United Kingdom")
    assert not jurisdiction_covers("International (excluding China)", "China")
    assert not jurisdiction_covers("International (excluding 中国大陆, EU)", "Ireland")
    assert jurisdiction_covers("Global", "China")


def test_policies_with_a_jurisdiction_are_chosen_by_it_not_by_language() -> None:
    rules = [_rule("POL-001", "en", ["topic-refund"], "International (excluding China)"),
             _rule("POL-002", "zh", ["topic-refund"], "中国大陆"),
             _rule("POL-009", "en", ["topic-sla"], "Global"),
             _rule("POL-030", "zh", ["topic-sla"], "Global")]  # a Chinese text of a global policy: kept by jurisdiction
    assert [r["uid"] for r in applicable_rules(rules, "China", "zh")] == ["POL-002", "POL-009", "POL-030"]
    assert [r["uid"] for r in applicable_rules(rules, "United Kingdom", "en")] == ["POL-001", "POL-009", "POL-030"]
