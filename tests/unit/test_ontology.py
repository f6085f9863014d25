"""The ontology loads, is bilingual, and generates a schema that names only its own labels."""

from __future__ import annotations

import pytest

from kcrm.foundation.errors import OntologyError
from kcrm.kg.schema import schema_statements
from kcrm.ontology.model import load_ontology

REQUIRED_CLASSES = {
    "Customer", "Product", "ProductCategory", "Transaction", "Policy", "IndustryRule", "Employee",
    "Topic", "SupportCase", "Document", "Segment", "Channel",
}
REQUIRED_RELATIONSHIPS = {
    "PURCHASED", "OWNS", "RAISED", "ABOUT_PRODUCT", "RESOLVED_BY", "AUTHORED", "HAS_SKILL",
    "GOVERNED_BY", "APPLIES_TO", "IN_SEGMENT", "BROADER",
}


def test_required_classes_and_relationships_exist() -> None:
    ontology = load_ontology()
    assert REQUIRED_CLASSES <= set(ontology.classes)
    assert REQUIRED_RELATIONSHIPS <= set(ontology.relationships)


def test_every_class_and_relationship_has_english_and_chinese_labels() -> None:
    ontology = load_ontology()
    for spec in ontology.classes.values():
        assert spec.label_en and spec.label_zh, spec.name
    for rel in ontology.relationships.values():
        assert rel.label_en and rel.label_zh, rel.type


def test_relationship_ends_are_known_classes() -> None:
    ontology = load_ontology()
    for rel in ontology.relationships.values():
        assert rel.domain and rel.range, rel.type
        assert rel.domain <= set(ontology.classes), rel.type
        assert rel.range <= set(ontology.classes), rel.type


def test_every_class_has_a_shape_with_a_required_uid() -> None:
    ontology = load_ontology()
    for spec in ontology.classes.values():
        assert spec.properties["uid"].required, spec.name


def test_schema_has_a_uid_constraint_per_class_and_indexes_for_indexed_properties() -> None:
    ontology = load_ontology()
    statements = schema_statements(ontology)
    for name in ontology.classes:
        assert any(f"(n:`{name}`) REQUIRE n.uid IS UNIQUE" in s for s in statements), name
    assert any("FOR (n:`SupportCase`) ON (n.`status`)" in s for s in statements)
    assert not any("FOR (n:`Channel`) ON (n.`status`)" in s for s in statements)


@pytest.mark.parametrize("bad", ["Customer` DETACH DELETE n //", "customer", "Nope", ""])
def test_unknown_or_hostile_labels_are_refused(bad: str) -> None:
    with pytest.raises(OntologyError):
        load_ontology().class_spec(bad)


def test_unknown_relationship_type_is_refused() -> None:
    with pytest.raises(OntologyError):
        load_ontology().relationship("KNOWS]->() DETACH DELETE n //")
