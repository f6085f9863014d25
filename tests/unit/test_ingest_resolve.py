"""The duplicate-customer matcher: keys first, then names in both scripts."""

from __future__ import annotations

from kcrm.ingest.resolve import Candidate, is_chinese, name_similarity, normalise_name, resolve


def test_names_are_normalised_without_width_case_punctuation_or_legal_form() -> None:
    assert normalise_name("ＡＣＭＥ  Trading, Ltd.") == "acme trading"
    assert normalise_name("上海电气集团股份有限公司") == "上海电气"
    assert normalise_name("Nordic Widgets A/S") == normalise_name("Nordic Widgets AS") == "nordic widgets"
    assert normalise_name("上海 电气") == "上海电气"
    assert is_chinese("上海电气 SH") and not is_chinese("Acme 上海")


def test_similarity_compares_chinese_by_characters_and_never_across_scripts() -> None:
    assert name_similarity("上海电气集团股份有限公司", "上海电气集团有限公司") == 100.0
    assert 80 <= name_similarity("武汉正和职业技术学院", "武汉正和职业学院") < 100
    assert name_similarity("北京华信科技", "深圳腾飞贸易") < 30
    assert name_similarity("Trading ACME Ltd", "acme trading limited") == 100.0
    assert name_similarity("ACME Trading", "艾克米贸易") == 0.0


def test_keys_merge_first_and_names_only_above_the_threshold() -> None:
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
    merges = {(m.keep, m.merged): (m.rule, m.score) for m in resolve(candidates)}
    assert merges[("CRM-1", "ERP-7")] == ("email", 100.0)
    assert merges[("ERP-8", "CRM-2")] == ("phone", 100.0)
    rule, score = merges[("CRM-3", "ERP-9")]
    assert rule == "name" and 90 <= score < 100
    assert set(merges) == {("CRM-1", "ERP-7"), ("ERP-8", "CRM-2"), ("CRM-3", "ERP-9")}


def test_clusters_close_transitively_onto_the_first_record() -> None:
    candidates = [Candidate("A", "Alpha Foods", email="a@alpha.example"),
                  Candidate("B", "Beta", email="a@alpha.example", phone="+47 22 33 44 55"),
                  Candidate("C", "Gamma", phone="+47 22334455")]
    assert {(m.keep, m.merged, m.rule) for m in resolve(candidates)} == {("A", "B", "email"), ("A", "C", "phone")}
