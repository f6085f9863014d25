"""The dictionary matcher of the case assistant: aliases, boundaries, longest match, ambiguity."""

from __future__ import annotations

from kcrm.kg.case_assist import aliases, build_dictionary, match_entities, merge_rules

ROWS = [
    {"uid": "PRD-1", "type": "Product", "names": ["Skylark LP-1100w Compact Mono Laser", None, "SKL-LP-1100W"]},
    {"uid": "PRD-2", "type": "Product", "names": ["SkyVault Business (per user)", "云盘商业版", "SKL-SV-BIZ"]},
    {"uid": "CUS-1", "type": "Customer", "names": ["Ashford Logistics plc"]},
    {"uid": "CUS-2", "type": "Customer", "names": ["Acme"]},
    {"uid": "CUS-3", "type": "Customer", "names": ["Acme"]},
]


def test_aliases_include_model_codes_and_bare_names() -> None:
    assert "LP-1100w" in aliases("Skylark LP-1100w Compact Mono Laser")
    assert "SkyVault Business" in aliases("SkyVault Business (per user)")
    assert aliases("") == set()


def test_matches_names_codes_and_chinese_on_boundaries() -> None:
    dictionary = build_dictionary(ROWS)
    text = ("Ashford Logistics plc: our lp-1100w and 云盘商业版 fail; XLP-1100wX is not ours. "
            "SkyVault Business too.")
    found = [(m.uid, m.text) for m in match_entities(text, dictionary)]
    assert found == [("CUS-1", "Ashford Logistics plc"), ("PRD-1", "lp-1100w"), ("PRD-2", "云盘商业版"),
                     ("PRD-2", "SkyVault Business")]


def test_ambiguous_names_are_not_matched() -> None:
    assert match_entities("Acme called", build_dictionary(ROWS)) == []


def test_rules_from_cases_and_customer_are_merged() -> None:
    pol = {"uid": "POL-1", "type": "Policy", "title": "Refund"}
    rule = {"uid": "RULE-1", "type": "IndustryRule", "title": "GDPR"}
    merged = merge_rules([("C1", pol), ("C2", pol), ("C2", rule)], [{**rule, "via": ["GOVERNED_BY"]}])
    assert [(r["uid"], r["cases"], r["customer"]) for r in merged] == [("RULE-1", ["C2"], True),
                                                                        ("POL-1", ["C1", "C2"], False)]
