"""Batched, idempotent upserts of validated records into Neo4j, with provenance.

Nodes are merged on `uid` per label; a node's properties are replaced only when their content
hash changes, so loading the same data twice changes nothing (counts, properties and the
`ingestedAt` of first sight all stay). Relationships are merged between existing nodes; a
relationship whose other end does not exist is reported, not silently dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tqdm import tqdm

from kcrm.ingest.records import Link, Problem, Record
from kcrm.kg.connection import Graph
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)

UPSERT_NODES = """
UNWIND $rows AS row
MERGE (n:`{label}` {{uid: row.uid}})
WITH n, row, n.ingestedAt AS firstSeen, n.contentHash AS oldHash
CALL (n, row, firstSeen, oldHash) {{
  WITH n, row, firstSeen, oldHash WHERE oldHash IS NULL OR oldHash <> row.hash
  SET n = row.props
  SET n.uid = row.uid, n.contentHash = row.hash, n.source = $source,
      n.sourceRecord = row.sourceRecord, n.ingestedAt = coalesce(firstSeen, $now), n.updatedAt = $now
  RETURN CASE WHEN firstSeen IS NULL THEN 'created' ELSE 'updated' END AS change
  UNION
  WITH n, row, firstSeen, oldHash WHERE oldHash = row.hash
  RETURN 'unchanged' AS change
}}
RETURN change, count(*) AS n
"""

UPSERT_RELATIONSHIPS = """
UNWIND $rows AS row
OPTIONAL MATCH (a:`{start}` {{uid: row.start}})
OPTIONAL MATCH (b:`{end}` {{uid: row.end}})
CALL (a, b, row) {{
  WITH a, b, row WHERE a IS NOT NULL AND b IS NOT NULL
  MERGE (a)-[r:`{type}`]->(b)
  SET r += row.props, r.source = $source
}}
WITH row, a, b WHERE a IS NULL OR b IS NULL
RETURN row.start AS start, row.end AS end, a IS NULL AS missingStart, b IS NULL AS missingEnd,
       row.sourceRecord AS sourceRecord, row.uid AS uid
"""


@dataclass
class LoadReport:
    """What a load did: per-label node changes, relationships written, and every rejection."""

    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    relationships: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rejected: list[Problem] = field(default_factory=list)

    @property
    def nodes_written(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": dict(self.created), "updated": dict(self.updated), "unchanged": dict(self.unchanged),
            "relationships": dict(self.relationships), "rejected": [p.as_dict() for p in self.rejected],
        }


def content_hash(record: Record) -> str:
    """A stable hash of a record's properties: the test of whether a node changed."""
    payload = json.dumps(record.props, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _node_rows(records: list[Record]) -> list[dict[str, Any]]:
    return [
        {"uid": r.uid, "props": r.props, "hash": content_hash(r), "sourceRecord": f"{r.source}:{r.line}"}
        for r in records
    ]


def _relationship_groups(records: Iterable[Record]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        for rel in record.rels:
            if rel.outgoing:
                key, start, end = (record.type, rel.type, rel.other_type), record.uid, rel.other_uid
            else:
                key, start, end = (rel.other_type, rel.type, record.type), rel.other_uid, record.uid
            groups[key].append({
                "start": start, "end": end, "props": rel.props,
                "sourceRecord": f"{record.source}:{record.line}", "uid": record.uid,
            })
    return groups


def _add_links(groups: dict[tuple[str, str, str], list[dict[str, Any]]], links: Iterable[Link]) -> None:
    for link in links:
        groups[(link.start_type, link.type, link.end_type)].append({
            "start": link.start_uid, "end": link.end_uid, "props": link.props,
            "sourceRecord": f"{link.source}:{link.line}", "uid": f"{link.start_uid}->{link.end_uid}",
        })


class GraphLoader:
    """Writes validated records to Neo4j in batches of `batch_size` per transaction."""

    def __init__(self, graph: Graph, ontology: Ontology, batch_size: int = 500, progress: bool = False) -> None:
        self.graph = graph
        self.ontology = ontology
        self.batch_size = batch_size
        self.progress = progress

    def load(self, records: list[Record], source: str, report: LoadReport | None = None,
             links: Iterable[Link] = ()) -> LoadReport:
        """Upsert all nodes first, then all relationships (so every end exists when linked).

        `links` are relationships declared on their own (order lines); they join the others.
        """
        report = report or LoadReport()
        now = datetime.now(timezone.utc).isoformat()
        by_label: dict[str, list[Record]] = defaultdict(list)
        for record in records:
            by_label[self.ontology.class_spec(record.type).name].append(record)
        groups = _relationship_groups(records)
        _add_links(groups, links)
        total = len(records) + sum(len(rows) for rows in groups.values())
        with tqdm(total=total, desc=f"load {source}", unit="item", disable=not self.progress) as bar:
            for label, items in sorted(by_label.items()):
                self._upsert_nodes(label, items, source, now, report, bar)
            for (start, rel_type, end), rows in sorted(groups.items()):
                self._upsert_relationships(start, rel_type, end, rows, source, report, bar)
        log.info("loaded %s: %d nodes written, %d rejected", source, report.nodes_written, len(report.rejected))
        return report

    def _upsert_nodes(self, label: str, items: list[Record], source: str, now: str,
                      report: LoadReport, bar: tqdm) -> None:
        cypher = UPSERT_NODES.format(label=label)
        for batch in _batches(_node_rows(items), self.batch_size):
            for row in self.graph.write(cypher, rows=batch, source=source, now=now):
                getattr(report, row["change"])[label] += row["n"]
            bar.update(len(batch))

    def _upsert_relationships(self, start: str, rel_type: str, end: str, rows: list[dict[str, Any]],
                              source: str, report: LoadReport, bar: tqdm) -> None:
        cypher = UPSERT_RELATIONSHIPS.format(
            start=self.ontology.class_spec(start).name,
            type=self.ontology.relationship(rel_type).type,
            end=self.ontology.class_spec(end).name,
        )
        for batch in _batches(rows, self.batch_size):
            missing = self.graph.write(cypher, rows=batch, source=source)
            report.relationships[rel_type] += len(batch) - len(missing)
            for row in missing:
                absent = row["start"] if row["missingStart"] else row["end"]
                absent_label = start if row["missingStart"] else end
                file, _, line = row["sourceRecord"].rpartition(":")
                report.rejected.append(Problem(
                    file, int(line), row["uid"], f"rels.{rel_type}",
                    f"no {absent_label} with uid {absent!r} in the graph",
                ))
            bar.update(len(batch))
