"""The duplicate-customer matcher: keys first, then names in both scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kcrm.ingest.resolve import Candidate, is_chinese, name_similarity, normalise_name, resolve, resolve_all

ADVERSARIAL = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "duplicates" / "adversarial.json")
                         .read_text(encoding="utf-8"))


def test_names_are_normalised_without_width_case_punctuation_or_legal_form() -> None:
    assert normalise_name("ＡＣＭＥ  Trading, Ltd.") == "acme trading"
    assert normalise_name("上海电气集团股份有限公司") == "上海电气"
    assert normalise_name("Nordic Widgets A/S") == normalise_name("Nordic Widgets AS") == "nordic widgets"
    assert normalise_name("上海 电气") == "上海电气"
    assert is_chinese("上海电气 SH") and not is_chinese("Acme 上海")


def test_similarity_compares_chinese_by_characters_and_across_scripts_through_pinyin() -> None:
    assert name_similarity("上海电气集团股份有限公司", "上海电气集团有限公司") == 100.0
    assert 80 <= name_similarity("武汉正和职业技术学院", "武汉正和职业学院") < 100
    assert name_similarity("北京华信科技", "深圳腾飞贸易") < 30
    assert name_similarity("Trading ACME Ltd", "acme trading limited") == 100.0
    assert name_similarity("ACME Trading", "艾克米贸易") < 60
    assert name_similarity("Huawei", "华为技术有限公司".replace("技术", "")) == 100.0
    assert name_similarity("Haier Group", "海尔集团") == 100.0
    assert name_similarity("Li", "李") == 0.0  # too short to say


def test_keys_merge_and_names_only_suggest() -> None:
    candidates = [
        Candidate("CRM-1", "ACME Trading Ltd", email="Sales@ACME.example.com", source="crm"),
        Candidate("ERP-7", "Acme Trdng", email="sales@acme.example.com", source="erp"),
        Candidate("ERP-8", "上海电气集团股份有限公司", phone="+86 21 6321 5566", source="erp"),
        Candidate("CRM-2", "上海电气集团", phone="+86 (21) 6321-5566", source="crm"),
        Candidate("CRM-3", "Nordic Widgets AS", source="crm"),
        Candidate("ERP-9", "Nordic Widget A/S", source="erp"),
        Candidate("CRM-4", "Northern Gadgets", source="crm"),
        Candidate("ERP-10", "no key", email="not an address", phone="n/a", source="erp"),
    ]
    result = resolve_all(candidates)
    merges = {(m.keep, m.merged): (m.rule, m.score) for m in result.merges}
    assert merges == {("CRM-1", "ERP-7"): ("email", 100.0), ("ERP-8", "CRM-2"): ("phone", 100.0)}
    [possible] = result.possible
    assert (possible.a, possible.b) == ("CRM-3", "ERP-9") and 90 <= possible.score < 100
    assert possible.evidence == {"name": f"{possible.score:.1f}"}


def test_clusters_close_transitively_onto_the_first_record() -> None:
    candidates = [Candidate("A", "Alpha Foods", email="a@alpha.example"),
                  Candidate("B", "Beta", email="a@alpha.example", phone="+47 22 33 44 55"),
                  Candidate("C", "Gamma", phone="+47 22334455")]
    assert {(m.keep, m.merged, m.rule) for m in resolve(candidates)} == {("A", "B", "email"), ("A", "C", "phone")}


def test_aliases_match_translations_and_one_source_never_pairs_with_itself() -> None:
    candidates = [
        Candidate("CRM-1", "Wuhan Zhenghe Vocational College", source="crm", aliases=("武汉正和职业技术学院",)),
        Candidate("ERP-1", "武汉正和职业技术学院", source="erp"),
        Candidate("CRM-2", "Haier Group", source="crm"),
        Candidate("ERP-3", "海尔集团公司", source="erp"),
    ]
    result = resolve_all(candidates, distinct_sources=True)
    assert result.merges == []  # names alone never merge
    pairs = {(p.a, p.b): p.score for p in result.possible}
    assert pairs[("CRM-1", "ERP-1")] == 100.0 and ("CRM-2", "ERP-3") in pairs
    same_source = [Candidate("A", "Acme Ltd", source="s"), Candidate("B", "ACME Limited", source="s")]
    assert resolve_all(same_source, distinct_sources=True).possible == []
    assert len(resolve_all(same_source).possible) == 1


def test_a_conflicting_strong_key_vetoes_a_merge_even_through_a_cluster() -> None:
    candidates = [Candidate("A", "Alpha Foods", email="a@alpha.example", phone="+47 22 33 44 55"),
                  Candidate("B", "Alpha Foods", email="a@alpha.example"),
                  Candidate("C", "Alpha Foods", email="c@alpha.example", phone="+47 22334455")]
    result = resolve_all(candidates)
    assert [(m.keep, m.merged) for m in result.merges] == [("A", "B")]
    assert {(p.a, p.b) for p in result.possible} >= {("A", "C")}
    assert all(p.evidence.get("email") == "different" for p in result.possible)


@pytest.mark.parametrize("case", ADVERSARIAL, ids=[c["case"] for c in ADVERSARIAL])
def test_adversarial_pairs_get_their_expected_outcome(case: dict) -> None:
    old, new = case["existing"], case["incoming"]
    candidates = [Candidate("OLD", old["name"], old.get("email"), old.get("phone"), "crm"),
                  Candidate("NEW", new["name"], new.get("email"), new.get("phone"), "tickets")]
    result = resolve_all(candidates, 90.0, distinct_sources=True)
    outcome = "merge" if result.merges else "possible" if result.possible else "nothing"
    assert outcome == case["expect"], (result.merges, result.possible)
    if outcome == "merge":
        assert [(m.keep, m.merged, m.rule) for m in result.merges] == [("OLD", "NEW", case["rule"])]


def test_names_that_differ_only_in_their_numbers_are_different_customers() -> None:
    from kcrm.ingest.resolve import name_similarity

    assert name_similarity("Fault Test Customer 1-0", "Fault Test Customer 0-0") == 0.0
    assert name_similarity("Acme Store 12", "Acme Store 13") == 0.0
    assert name_similarity("云雀 3号店", "云雀 4号店") == 0.0
    assert name_similarity("Acme Store 12 Ltd", "ACME store １２") > 90  # full-width digits are the same number
