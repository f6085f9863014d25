"""The SKOS taxonomy (support topics and product categories) as plain Python objects.

Search expands queries with the alt labels, the graph loads the concepts as Topic and
ProductCategory nodes, and the sample generator files cases under the leaf concepts: all of
them read `taxonomy.ttl` through `load_concepts`, so the file is the one source of truth.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SKOS

from kcrm.foundation.errors import OntologyError

log = logging.getLogger(__name__)

KCRM = Namespace("https://kcrm.dev/ontology#")
KT = Namespace("https://kcrm.dev/taxonomy/")
DEFAULT_TAXONOMY = Path(__file__).resolve().parent / "taxonomy.ttl"
SCHEMES = ("topics", "product-categories")
_KINDS = {KCRM.Topic: "Topic", KCRM.ProductCategory: "ProductCategory"}


@dataclass(frozen=True)
class Concept:
    """One taxonomy concept; `uid` is the local name of its IRI (`kt:topic-refund` -> `topic-refund`)."""

    uid: str
    scheme: str
    kind: str
    label_en: str
    label_zh: str
    alt_labels: tuple[str, ...]
    broader: str | None
    definition: str | None


def _uid(node: URIRef) -> str:
    text = str(node)
    if not text.startswith(str(KT)):
        raise OntologyError(f"taxonomy concept {text} is outside {KT}")
    return text[len(str(KT)):]


def _lang_literals(graph: Graph, subject: URIRef, predicate: URIRef) -> list[Literal]:
    return [o for o in graph.objects(subject, predicate) if isinstance(o, Literal)]


def _pref_label(graph: Graph, subject: URIRef, lang: str) -> str:
    labels = sorted(str(o) for o in _lang_literals(graph, subject, SKOS.prefLabel) if o.language == lang)
    if len(labels) > 1:
        raise OntologyError(f"{_uid(subject)} has {len(labels)} prefLabels in {lang!r}")
    return labels[0] if labels else ""


def _alt_labels(graph: Graph, subject: URIRef) -> tuple[str, ...]:
    """English alt labels first, then Chinese, each sorted, so the order is stable across runs."""
    pairs = {(o.language != "en", str(o)) for o in _lang_literals(graph, subject, SKOS.altLabel)}
    return tuple(text for _, text in sorted(pairs))


def _definition(graph: Graph, subject: URIRef) -> str | None:
    texts = _lang_literals(graph, subject, SKOS.definition)
    english = sorted(str(o) for o in texts if o.language in ("en", None))
    others = sorted(str(o) for o in texts)
    if english:
        return english[0]
    return others[0] if others else None


def _scheme(graph: Graph, subject: URIRef) -> str:
    schemes = sorted(_uid(s) for s in graph.objects(subject, SKOS.inScheme) if isinstance(s, URIRef))
    if len(schemes) != 1 or schemes[0] not in SCHEMES:
        raise OntologyError(f"{_uid(subject)} must be in exactly one of {SCHEMES}, found {schemes}")
    return schemes[0]


def _kind(graph: Graph, subject: URIRef) -> str:
    kinds = sorted(name for cls, name in _KINDS.items() if (subject, RDF.type, cls) in graph)
    if len(kinds) != 1:
        raise OntologyError(f"{_uid(subject)} must be exactly one of kcrm:Topic or kcrm:ProductCategory")
    return kinds[0]


def _broader(graph: Graph, subject: URIRef) -> str | None:
    parents = sorted(_uid(p) for p in graph.objects(subject, SKOS.broader) if isinstance(p, URIRef))
    if len(parents) > 1:
        raise OntologyError(f"{_uid(subject)} has more than one broader concept: {parents}")
    return parents[0] if parents else None


def _depths(concepts: dict[str, Concept]) -> dict[str, int]:
    """Depth of each concept below its top concept; raises on a missing parent or a cycle."""
    depths: dict[str, int] = {}
    for uid in sorted(concepts):
        chain: list[str] = []
        node: str | None = uid
        while node is not None and node not in depths:
            if node in chain:
                raise OntologyError(f"cycle in skos:broader: {' -> '.join([*chain, node])}")
            if node not in concepts:
                raise OntologyError(f"{chain[-1]} has broader {node}, which is not a concept")
            chain.append(node)
            node = concepts[node].broader
        base = -1 if node is None else depths[node]
        for offset, member in enumerate(reversed(chain), start=1):
            depths[member] = base + offset
    return depths


def parse_concepts(graph: Graph) -> list[Concept]:
    """Every skos:Concept of `graph`, parents before children (scheme, depth, uid order)."""
    concepts: dict[str, Concept] = {}
    for subject in graph.subjects(RDF.type, SKOS.Concept):
        if not isinstance(subject, URIRef):
            continue
        uid = _uid(subject)
        concepts[uid] = Concept(
            uid=uid,
            scheme=_scheme(graph, subject),
            kind=_kind(graph, subject),
            label_en=_pref_label(graph, subject, "en"),
            label_zh=_pref_label(graph, subject, "zh"),
            alt_labels=_alt_labels(graph, subject),
            broader=_broader(graph, subject),
            definition=_definition(graph, subject),
        )
    depths = _depths(concepts)
    return sorted(concepts.values(), key=lambda c: (SCHEMES.index(c.scheme), depths[c.uid], c.uid))


def load_concepts(path: Path | None = None) -> list[Concept]:
    """Parse the taxonomy file (by default the one shipped beside this module)."""
    source = path or DEFAULT_TAXONOMY
    graph = Graph().parse(source, format="turtle")
    concepts = parse_concepts(graph)
    log.debug("loaded %d taxonomy concepts from %s", len(concepts), source)
    return concepts


def leaf_concepts(concepts: list[Concept], scheme: str) -> list[Concept]:
    """The concepts of `scheme` that have no narrower concept: where cases and products are filed."""
    parents = {c.broader for c in concepts if c.broader}
    return [c for c in concepts if c.scheme == scheme and c.uid not in parents]
