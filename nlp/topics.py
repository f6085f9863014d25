"""Classify the graph's cases and documents into topics and store the result as CLASSIFIED_AS edges.

Training texts are the cases and documents whose source states a topic (HAS_TOPIC); the trained
model is kept in DATA_DIR/models/topics.pkl with a fingerprint of that labelled data and retrained
only when it changes, so classifying after each ingest costs a prediction, not a training. A
node's edges are replaced as a set (merge what is still chosen, delete the rest): idempotent.
A node's text is its title and description/text (not the resolution, which a new case lacks).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kcrm.kg.connection import Graph
from kcrm.nlp.classify import (
    LabelTopicModel,
    TfidfTopicModel,
    TopicModel,
    chosen,
    fit,
    load_model,
    save_model,
)
from kcrm.nlp.linking import TEXT_CLASSES, cached_ruler, joined_text
from kcrm.ontology.model import Ontology, load_ontology

log = logging.getLogger(__name__)

CLASSIFY_PROPERTIES = ("title", "description", "text")
LABELLED = """
MATCH (n:`{label}`)-[r:`{has_topic}`]->(t:`{topic}`) WHERE NOT coalesce(r.source, '') STARTS WITH 'kcrm.'
RETURN n.uid AS uid, [p IN $props | n[p]] AS parts, collect(t.uid) AS topics ORDER BY uid
"""
FINGERPRINT = """
MATCH (n:`{label}`)-[r:`{has_topic}`]->(:`{topic}`) WHERE NOT coalesce(r.source, '') STARTS WITH 'kcrm.'
RETURN count(r) AS n, max(n.updatedAt) AS at
"""
TEXTS_ALL = "MATCH (n:`{label}`) WHERE n.uid > $after RETURN n.uid AS uid, [p IN $props | n[p]] AS parts " \
            "ORDER BY n.uid LIMIT $limit"
TEXTS_SOME = "MATCH (n:`{label}`) WHERE n.uid IN $uids RETURN n.uid AS uid, [p IN $props | n[p]] AS parts"
WRITE_TOPICS = """
UNWIND $rows AS row
MATCH (a:`{start}` {{uid: row.uid}})
CALL (a, row) {{
  UNWIND row.topics AS c
  MATCH (t:`{topic}` {{uid: c.topic}})
  MERGE (a)-[r:`{type}`]->(t)
  SET r.score = c.score, r.method = $method, r.computedAt = $now, r.source = 'kcrm.classify'
  RETURN count(r) AS written
}}
CALL (a, row) {{
  OPTIONAL MATCH (a)-[old:`{type}`]->(t:`{topic}`) WHERE NOT t.uid IN [c IN row.topics | c.topic]
  DELETE old
  RETURN count(old) AS removed
}}
RETURN sum(written) AS written, sum(removed) AS removed
"""


@dataclass
class ClassifyStats:
    """What a classification pass did."""

    method: str = ""
    nodes: int = 0
    edges: int = 0
    removed: int = 0
    trained: bool = False
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "nodes": self.nodes, "edges": self.edges, "removed": self.removed,
                "trained": self.trained, "seconds": round(self.seconds, 3)}


class TopicClassifier:
    """Trains (or reloads) the topic model from the graph and files cases and documents under topics."""

    def __init__(self, graph: Graph, model_path: Path, ontology: Ontology | None = None, batch_size: int = 500) -> None:
        self.graph, self.model_path, self.batch_size = graph, model_path, batch_size
        self.ontology = ontology or load_ontology()
        self.topic = self.ontology.class_spec("Topic").name
        self.has_topic = self.ontology.relationship("HAS_TOPIC").type
        self.rel_type = self.ontology.relationship("CLASSIFIED_AS").type
        self.trained = False

    def _props(self) -> list[str]:
        return [p for p in CLASSIFY_PROPERTIES if p in self.ontology.datatype_properties]

    def labelled(self) -> tuple[list[str], list[list[str]]]:
        """Texts whose source states their topics, and those topics."""
        texts, topics = [], []
        for name in TEXT_CLASSES:
            cypher = LABELLED.format(label=self.ontology.class_spec(name).name, has_topic=self.has_topic,
                                     topic=self.topic)
            for row in self.graph.read(cypher, props=self._props()):
                texts.append(joined_text(row["parts"]))
                topics.append(sorted(row["topics"]))
        return texts, topics

    def fingerprint(self) -> tuple[Any, ...]:
        out: list[Any] = []
        for name in TEXT_CLASSES:
            row = self.graph.read(FINGERPRINT.format(label=self.ontology.class_spec(name).name,
                                                     has_topic=self.has_topic, topic=self.topic))[0]
            out += [row["n"], str(row["at"])]
        return tuple(out)

    def model(self) -> TopicModel:
        """The saved model when the labelled data is unchanged, else a newly trained (and saved) one."""
        fingerprint = self.fingerprint()
        saved = load_model(self.model_path, fingerprint)
        if saved is not None:
            return saved
        texts, topics = self.labelled()
        pairs = [(text, topic) for text, labels in zip(texts, topics) for topic in labels]
        model = fit([p[0] for p in pairs], [p[1] for p in pairs], lambda: cached_ruler(self.graph))
        self.trained = True
        if isinstance(model, TfidfTopicModel):
            save_model(model, self.model_path, fingerprint)
        log.info("topic model %s trained on %d labelled texts", model.method, len(pairs))
        return model

    def _texts(self, name: str, uids: list[str] | None) -> list[list[dict[str, Any]]]:
        label = self.ontology.class_spec(name).name
        if uids is not None:
            return [self.graph.read(TEXTS_SOME.format(label=label), uids=uids[i:i + self.batch_size],
                                    props=self._props()) for i in range(0, len(uids), self.batch_size)]
        pages: list[list[dict[str, Any]]] = []
        after = ""
        while True:
            rows = self.graph.read(TEXTS_ALL.format(label=label), after=after, props=self._props(),
                                   limit=self.batch_size)
            if not rows:
                return pages
            pages.append(rows)
            after = rows[-1]["uid"]

    def classify(self, uids: dict[str, list[str]] | None = None) -> ClassifyStats:
        """File every case and document (or only `uids`, by class) under its topics."""
        started = time.perf_counter()
        model = self.model()
        stats = ClassifyStats(method=model.method, trained=self.trained)
        now = datetime.now(UTC).isoformat()
        for name in TEXT_CLASSES:
            wanted = None if uids is None else sorted(set(uids.get(name, [])))
            if wanted == []:
                continue
            cypher = WRITE_TOPICS.format(start=self.ontology.class_spec(name).name, topic=self.topic,
                                         type=self.rel_type)
            for rows in self._texts(name, wanted):
                scores = model.scores([joined_text(r["parts"]) for r in rows])
                payload = [{"uid": r["uid"], "topics": [{"topic": t, "score": s} for t, s in chosen(sc)]}
                           for r, sc in zip(rows, scores)]
                result = self.graph.write(cypher, rows=payload, method=model.method, now=now)
                stats.nodes += len(rows)
                stats.edges += int(result[0]["written"] or 0) if result else 0
                stats.removed += int(result[0]["removed"] or 0) if result else 0
        stats.seconds = time.perf_counter() - started
        log.info("classified %d nodes with %s: %d edges", stats.nodes, stats.method, stats.edges)
        return stats


__all__ = ["ClassifyStats", "LabelTopicModel", "TopicClassifier"]
