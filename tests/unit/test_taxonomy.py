"""The SKOS taxonomy: bilingual, well-formed trees whose alt labels can drive synonym search."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from kcrm.foundation.errors import OntologyError
from kcrm.ontology.taxonomy import DEFAULT_TAXONOMY, KT, Concept, leaf_concepts, load_concepts

PREFIXES = """
@prefix kcrm: <https://kcrm.dev/ontology#> .
@prefix kt:   <https://kcrm.dev/taxonomy/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""


@pytest.fixture(scope="module")
def concepts() -> list[Concept]:
    return load_concepts()


def _by_uid(concepts: list[Concept]) -> dict[str, Concept]:
    return {c.uid: c for c in concepts}


def _depth(concept: Concept, index: dict[str, Concept]) -> int:
    depth = 1
    while concept.broader:
        concept = index[concept.broader]
        depth += 1
    return depth


def test_both_schemes_are_present_with_the_expected_sizes(concepts: list[Concept]) -> None:
    per_scheme = Counter(c.scheme for c in concepts)
    assert 30 <= per_scheme["topics"] <= 45
    assert 15 <= per_scheme["product-categories"] <= 22
    assert {c.kind for c in concepts if c.scheme == "topics"} == {"Topic"}
    assert {c.kind for c in concepts if c.scheme == "product-categories"} == {"ProductCategory"}


def test_every_concept_has_an_english_and_a_chinese_label(concepts: list[Concept]) -> None:
    for concept in concepts:
        assert concept.label_en.strip(), concept.uid
        assert concept.label_zh.strip(), concept.uid
        assert any("\u4e00" <= ch <= "\u9fff" for ch in concept.label_zh), concept.uid


def test_uids_are_local_names_with_scheme_prefixes(concepts: list[Concept]) -> None:
    uids = [c.uid for c in concepts]
    assert len(uids) == len(set(uids))
    for concept in concepts:
        prefix = "topic-" if concept.scheme == "topics" else "cat-"
        assert concept.uid.startswith(prefix) and "/" not in concept.uid and "#" not in concept.uid


def test_broader_targets_exist_in_the_same_scheme(concepts: list[Concept]) -> None:
    index = _by_uid(concepts)
    for concept in concepts:
        if concept.broader is not None:
            assert concept.broader in index, concept.uid
            assert index[concept.broader].scheme == concept.scheme, concept.uid


def test_trees_are_two_or_three_levels_deep_with_parents_first(concepts: list[Concept]) -> None:
    index = _by_uid(concepts)
    seen: set[str] = set()
    for concept in concepts:
        assert concept.broader is None or concept.broader in seen, f"{concept.uid} before its parent"
        seen.add(concept.uid)
    depths = {scheme: max(_depth(c, index) for c in concepts if c.scheme == scheme)
              for scheme in ("topics", "product-categories")}
    assert depths["topics"] == 3
    assert 2 <= depths["product-categories"] <= 3


def test_top_concepts_are_declared_as_such() -> None:
    graph = Graph().parse(DEFAULT_TAXONOMY, format="turtle")
    for concept in graph.subjects(SKOS.inScheme, None):
        has_parent = graph.value(concept, SKOS.broader) is not None
        is_top = graph.value(concept, SKOS.topConceptOf) is not None
        assert has_parent != is_top, concept
        if is_top:
            scheme = graph.value(concept, SKOS.topConceptOf)
            assert (scheme, SKOS.hasTopConcept, concept) in graph


def test_alt_labels_are_generous_bilingual_and_unambiguous(concepts: list[Concept]) -> None:
    for scheme in ("topics", "product-categories"):
        owners: dict[str, str] = {}
        for concept in (c for c in concepts if c.scheme == scheme):
            assert len(concept.alt_labels) >= 5, concept.uid
            assert any(any("\u4e00" <= ch <= "\u9fff" for ch in a) for a in concept.alt_labels), concept.uid
            assert any(a.isascii() for a in concept.alt_labels), concept.uid
            assert concept.label_en not in concept.alt_labels and concept.label_zh not in concept.alt_labels
            for label in concept.alt_labels:
                assert owners.setdefault(label.lower(), concept.uid) == concept.uid, f"{label!r} is ambiguous"


def test_refund_synonyms_and_translations_are_there(concepts: list[Concept]) -> None:
    refund = _by_uid(concepts)["topic-refund"]
    assert refund.label_zh == "退款"
    assert {"refund", "money back", "reimbursement", "chargeback", "退钱", "返款", "退货退款"} <= set(refund.alt_labels)
    assert refund.broader == "topic-billing" and refund.definition


def test_the_support_desk_topics_and_catalogue_categories_exist(concepts: list[Concept]) -> None:
    index = _by_uid(concepts)
    for uid in ("topic-refund", "topic-invoice", "topic-payment-failure", "topic-subscription", "topic-shipping-delay",
                "topic-damaged-item", "topic-returns", "topic-login-password", "topic-2fa", "topic-account-locked",
                "topic-installation", "topic-driver-update", "topic-wifi", "topic-vpn", "topic-performance",
                "topic-data-sync", "topic-printing", "topic-battery-power", "topic-hardware-fault",
                "topic-warranty-claim", "topic-gdpr-data-export", "topic-data-deletion", "topic-pipl",
                "topic-malware", "topic-api-errors", "topic-license-activation",
                "cat-laser-printers", "cat-inkjet-printers", "cat-laptops", "cat-routers", "cat-switches",
                "cat-security-software", "cat-office-software", "cat-cloud-storage", "cat-support-plans"):
        assert uid in index, uid
    assert index["cat-laser-printers"].broader == "cat-printers"
    assert index["cat-support-plans"].broader == "cat-services"


def test_leaf_concepts_have_no_children(concepts: list[Concept]) -> None:
    leaves = leaf_concepts(concepts, "topics")
    parents = {c.broader for c in concepts}
    assert leaves and all(c.uid not in parents and c.scheme == "topics" for c in leaves)
    assert "topic-billing" not in {c.uid for c in leaves}
    assert "topic-refund" in {c.uid for c in leaves}


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "taxonomy.ttl"
    path.write_text(PREFIXES + body, encoding="utf-8")
    return path


def _concept(uid: str, broader: str | None) -> str:
    link = f"skos:broader kt:{broader}" if broader else "skos:topConceptOf kt:topics"
    return (f'kt:{uid} a skos:Concept , kcrm:Topic ; skos:inScheme kt:topics ; {link} ;\n'
            f'    skos:prefLabel "{uid}"@en , "主题"@zh .\n')


def test_a_cycle_in_broader_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, _concept("topic-a", "topic-b") + _concept("topic-b", "topic-a"))
    with pytest.raises(OntologyError, match="cycle"):
        load_concepts(path)


def test_a_missing_broader_target_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, _concept("topic-a", "topic-missing"))
    with pytest.raises(OntologyError, match="not a concept"):
        load_concepts(path)


def test_a_small_file_parses_into_concepts(tmp_path: Path) -> None:
    path = _write(tmp_path, _concept("topic-root", None) + _concept("topic-leaf", "topic-root"))
    loaded = load_concepts(path)
    assert [c.uid for c in loaded] == ["topic-root", "topic-leaf"]
    assert loaded[1] == Concept("topic-leaf", "topics", "Topic", "topic-leaf", "主题", (), "topic-root", None)
    assert str(KT["topic-leaf"]) == "https://kcrm.dev/taxonomy/topic-leaf"
    assert isinstance(KT["x"], URIRef)
