"""The SKOS taxonomy (topics, product categories) as graph records.

The taxonomy lives in `ontology/taxonomy.ttl`; loading it as Topic and ProductCategory nodes
with BROADER edges lets cases, documents and skills point at the same concepts that search
uses for synonyms and browsing.
"""

from __future__ import annotations

from kcrm.kg.records import Record, RelRef
from kcrm.ontology.model import TAXONOMY_FILE
from kcrm.ontology.taxonomy import Concept, load_concepts

TAXONOMY_SOURCE = "ontology/taxonomy.ttl"


def concept_record(concept: Concept, line: int) -> Record:
    """One concept as a record of its class, linked to its broader concept."""
    props: dict[str, object] = {"name": concept.label_en, "nameZh": concept.label_zh,
                                "altLabels": list(concept.alt_labels)}
    if concept.definition:
        props["definition"] = concept.definition
    rels: tuple[RelRef, ...] = ()
    if concept.broader:
        rels = (RelRef("BROADER", concept.broader, concept.kind, outgoing=True),)
    return Record(concept.kind, concept.uid, props, rels, TAXONOMY_FILE.name, line)


def taxonomy_records() -> list[Record]:
    """All taxonomy concepts as records, parents before children."""
    return [concept_record(c, n) for n, c in enumerate(load_concepts(), start=1)]
