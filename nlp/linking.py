"""Entity linking: cases and documents get MENTIONS edges to the entities their text names.

The ruler (`kcrm.nlp.extraction`) is built from the graph as it is now, so a run links to
everything loaded so far. A node's text is its title, description/text and resolution joined by
blank lines; an edge carries the best confidence, the first matched text and its offset in that
joined text, the number of mentions, the method and when it was computed. Re-linking a node
replaces its MENTIONS edges with the new set in one transaction (merge what is still found,
delete what is no longer found), so `kcrm link` twice leaves the same edges.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kcrm.kg.connection import Graph
from kcrm.nlp.extraction import LINKED_CLASSES, TOPIC, EntityRuler, Mention, build_terms, topic_terms
from kcrm.ontology.model import Ontology, load_ontology
from kcrm.ontology.taxonomy import load_concepts

log = logging.getLogger(__name__)

TEXT_CLASSES = ("SupportCase", "Document")
TEXT_PROPERTIES = ("title", "description", "text", "resolution")
NAME_PROPERTIES = {"Customer": ("name", "nameZh", "altLabels"), "Product": ("name", "nameZh"),
                   "Employee": ("name",), "Policy": ("title",), "IndustryRule": ("title",)}
CODE_PROPERTIES = {"Product": ("sku",)}
SEPARATOR = "\n\n"

DICTIONARY = "MATCH (n:`{label}`) RETURN n.uid AS uid, $type AS type, [p IN $names | n[p]] AS names, " \
             "[p IN $codes | n[p]] AS codes"
TEXTS_ALL = "MATCH (n:`{label}`) WHERE n.uid > $after RETURN n.uid AS uid, n.language AS language, " \
            "[p IN $props | n[p]] AS parts ORDER BY n.uid LIMIT $limit"
TEXTS_SOME = "MATCH (n:`{label}`) WHERE n.uid IN $uids RETURN n.uid AS uid, n.language AS language, " \
             "[p IN $props | n[p]] AS parts"
FINGERPRINT = "MATCH (n:`{label}`) RETURN count(n) AS n, max(n.updatedAt) AS at"
WRITE_MENTIONS = """
UNWIND $rows AS row
MATCH (a:`{start}` {{uid: row.uid}})
CALL (a, row) {{
  UNWIND row.mentions AS m
  MATCH (b:`{end}` {{uid: m.target}})
  MERGE (a)-[r:`{type}`]->(b)
  SET r.confidence = m.confidence, r.mentionText = m.text, r.offset = m.offset, r.mentionCount = m.count,
      r.method = m.method, r.computedAt = $now, r.source = 'kcrm.link'
  RETURN count(r) AS written
}}
CALL (a, row) {{
  OPTIONAL MATCH (a)-[old:`{type}`]->(b:`{end}`) WHERE NOT b.uid IN [m IN row.mentions | m.target]
  DELETE old
  RETURN count(old) AS removed
}}
RETURN sum(written) AS written, sum(removed) AS removed
"""


@dataclass
class LinkStats:
    """What a linking pass did: nodes read, mentions found, edges written and removed, and how fast."""

    nodes: int = 0
    mentions: int = 0
    edges: int = 0
    removed: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.nodes / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "mentions": self.mentions, "edges": self.edges, "removed": self.removed,
                "seconds": round(self.seconds, 3), "nodes_per_s": round(self.rate, 1)}


def joined_text(parts: Iterable[Any]) -> str:
    """The text a node is linked on: its text properties in order, blank-line separated (offsets count in it)."""
    return SEPARATOR.join(str(p) for p in parts if isinstance(p, str) and p.strip())


def dictionary_rows(graph: Graph, ontology: Ontology) -> list[dict[str, Any]]:
    """Every linkable entity's names and codes, read from the graph."""
    rows: list[dict[str, Any]] = []
    for name in LINKED_CLASSES:
        label = ontology.class_spec(name).name
        names = [p for p in NAME_PROPERTIES[name] if p in ontology.datatype_properties]
        codes = [p for p in CODE_PROPERTIES.get(name, ()) if p in ontology.datatype_properties]
        for row in graph.read(DICTIONARY.format(label=label), type=name, names=names, codes=codes):
            flat = []
            for value in row["names"]:
                flat.extend(value if isinstance(value, list) else [value])
            rows.append({"uid": row["uid"], "type": name, "names": [v for v in flat if v], "codes": row["codes"]})
    return rows


def build_ruler(graph: Graph, ontology: Ontology | None = None, ner_model: str | None = None) -> EntityRuler:
    """The entity ruler for the graph as it is now, topic labels of the taxonomy included."""
    ontology = ontology or load_ontology()
    terms = build_terms(dictionary_rows(graph, ontology)) + topic_terms(load_concepts())
    return EntityRuler(terms, ner_model=ner_model)


_CACHE: dict[str, tuple[tuple[Any, ...], EntityRuler]] = {}
_CACHE_LOCK = threading.Lock()


def dictionary_fingerprint(graph: Graph, ontology: Ontology) -> tuple[Any, ...]:
    """Counts and newest update of the linkable classes: when it changes, the ruler is rebuilt."""
    out: list[Any] = []
    for name in LINKED_CLASSES:
        row = graph.read(FINGERPRINT.format(label=ontology.class_spec(name).name))[0]
        out += [row["n"], str(row["at"])]
    return tuple(out)


def cached_ruler(graph: Graph, ner_model: str | None = None) -> EntityRuler:
    """The ruler for this graph, shared within the process and rebuilt only after the names changed.

    The case assistant and ingest's linking step both use it, so text is recognised the same way
    wherever it enters.
    """
    ontology = load_ontology()
    key = f"{graph.uri}|{ner_model or ''}"
    fingerprint = dictionary_fingerprint(graph, ontology)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        ruler = build_ruler(graph, ontology, ner_model)
        _CACHE[key] = (fingerprint, ruler)
        return ruler


def aggregate(mentions: list[Mention]) -> list[dict[str, Any]]:
    """One row per entity named (topics left out): best confidence, first text and offset, count."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for m in mentions:
        if m.type == TOPIC:
            continue
        row = best.get((m.type, m.uid))
        if row is None:
            best[(m.type, m.uid)] = {"target": m.uid, "type": m.type, "text": m.text, "offset": m.start,
                                     "confidence": m.confidence, "count": 1, "method": m.method}
            continue
        row["count"] += 1
        if m.confidence > row["confidence"]:
            row["confidence"], row["method"] = m.confidence, m.method
    return list(best.values())


class Linker:
    """Reads cases and documents, extracts their mentions and writes MENTIONS edges."""

    def __init__(self, graph: Graph, ruler: EntityRuler | None = None, ontology: Ontology | None = None,
                 batch_size: int = 500, ner_model: str | None = None) -> None:
        self.graph = graph
        self.ontology = ontology or load_ontology()
        self.ruler = ruler or cached_ruler(graph, ner_model)
        self.batch_size = batch_size
        self.rel_type = self.ontology.relationship("MENTIONS").type

    def _texts(self, name: str, uids: list[str] | None) -> Iterator[list[dict[str, Any]]]:
        label = self.ontology.class_spec(name).name
        props = [p for p in TEXT_PROPERTIES if p in self.ontology.datatype_properties]
        if uids is not None:
            for start in range(0, len(uids), self.batch_size):
                yield self.graph.read(TEXTS_SOME.format(label=label), uids=uids[start:start + self.batch_size],
                                      props=props)
            return
        after = ""
        while True:
            rows = self.graph.read(TEXTS_ALL.format(label=label), after=after, props=props, limit=self.batch_size)
            if not rows:
                return
            yield rows
            after = rows[-1]["uid"]

    def link(self, uids: dict[str, list[str]] | None = None) -> LinkStats:
        """Link every case and document (or only `uids`, by class); returns what was done."""
        stats = LinkStats()
        started = time.perf_counter()
        now = datetime.now(UTC).isoformat()
        for name in TEXT_CLASSES:
            wanted = None if uids is None else sorted(set(uids.get(name, [])))
            if wanted == []:
                continue
            for rows in self._texts(name, wanted):
                texts = [(joined_text(row["parts"]), row["language"]) for row in rows]
                found = list(self.ruler.extract_many(texts))
                stats.nodes += len(rows)
                stats.mentions += sum(len(m) for m in found)
                by_target: dict[str, list[dict[str, Any]]] = {t: [] for t in LINKED_CLASSES}
                per_node = [(row["uid"], aggregate(m)) for row, m in zip(rows, found)]
                for target in LINKED_CLASSES:
                    payload = [{"uid": uid, "mentions": [m for m in ms if m["type"] == target]} for uid, ms in per_node]
                    by_target[target] = payload
                self._write(name, by_target, now, stats)
        stats.seconds = time.perf_counter() - started
        log.info("linked %d nodes: %d mentions, %d edges written, %d removed (%.0f nodes/s)", stats.nodes,
                 stats.mentions, stats.edges, stats.removed, stats.rate)
        return stats

    def _write(self, name: str, by_target: dict[str, list[dict[str, Any]]], now: str, stats: LinkStats) -> None:
        start = self.ontology.class_spec(name).name
        for target, rows in by_target.items():
            cypher = WRITE_MENTIONS.format(start=start, end=self.ontology.class_spec(target).name, type=self.rel_type)
            result = self.graph.write(cypher, rows=rows, now=now)
            if result:
                stats.edges += int(result[0]["written"] or 0)
                stats.removed += int(result[0]["removed"] or 0)


__all__ = ["LinkStats", "Linker", "aggregate", "build_ruler", "cached_ruler", "dictionary_rows", "joined_text"]
