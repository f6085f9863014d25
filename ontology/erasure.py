"""The erasure rules, read from the ontology: which properties are personal, what happens to linked items.

`kcrm subject erase` must not decide in code what stays for the business; the ontology says it
(`kcrm:personalData` on datatype properties, `kcrm:onErasure` on relationships; see kcrm.ttl).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, Literal

from kcrm.foundation.errors import OntologyError
from kcrm.ontology.model import KCRM, ONTOLOGY_FILE

RULES = ("delete-unless-shared", "keep-pseudonymised", "redact")


@dataclass(frozen=True)
class ErasureRules:
    """Personal properties and the rule per relationship type (absent: the edge goes with the customer)."""

    personal: frozenset[str]
    identifying: frozenset[str]
    on_erasure: dict[str, str]

    def rule(self, rel_type: str) -> str | None:
        return self.on_erasure.get(rel_type)


def _local(uri: object) -> str:
    return str(uri).rsplit("#", 1)[-1]


def parse_erasure_rules(ontology_file: Path = ONTOLOGY_FILE) -> ErasureRules:
    """Read the annotations; an unknown rule name is an OntologyError (a typo must not keep data)."""
    graph = Graph().parse(ontology_file, format="turtle")
    personal = frozenset(_local(p) for p in graph.subjects(KCRM.personalData, Literal(True)))
    rules = {}
    for rel, rule in graph.subject_objects(KCRM.onErasure):
        if str(rule) not in RULES:
            raise OntologyError(f"kcrm:onErasure of {_local(rel)} is {str(rule)!r}; choose from {', '.join(RULES)}")
        rules[_local(rel)] = str(rule)
    identifying = frozenset(_local(p) for p in graph.subjects(KCRM.identifying, Literal(True)))
    return ErasureRules(personal=personal, identifying=identifying & personal, on_erasure=rules)


@lru_cache(maxsize=1)
def load_erasure_rules() -> ErasureRules:
    """The shipped rules, parsed once per process."""
    return parse_erasure_rules()
