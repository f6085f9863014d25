"""Whole batches: each batch's nodes and relationships in one Neo4j transaction, journaled.

A loader that writes all nodes and then all relationships, killed in between, would leave
nodes without their edges. Here a batch is `batch_size` records in run order together with
every relationship whose later end (in run order) is in that batch, so when batches 0..k have
committed the graph holds exactly those records and all the relationships among them (and to
nodes that were already in the graph): never a record without its edges. Neo4j rolls back the
transaction a killed client left open, so a batch is all there or not at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from neo4j import unit_of_work
from tqdm import tqdm

from kcrm.ingest.journal import Journal
from kcrm.kg.connection import GRAPH_ERRORS, Graph, graph_error
from kcrm.kg.loader import UPSERT_NODES, UPSERT_RELATIONSHIPS, LoadReport, content_hash
from kcrm.kg.records import Link, Problem, Record
from kcrm.kg.suppression import ensure_schema, suppressed
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)


NODES_PRESENT = """
UNWIND $rows AS row
MATCH (n:`{label}` {{uid: row.uid}}) WHERE n.contentHash = row.hash
RETURN count(n) AS n
"""
RELATIONSHIPS_PRESENT = """
UNWIND $rows AS row
MATCH (:`{start}` {{uid: row.start}})-[r:`{type}`]->(:`{end}` {{uid: row.end}})
RETURN count(DISTINCT [row.start, row.end]) AS n
"""


@dataclass
class Batch:
    """One transaction's worth: node rows per label, relationship rows per (start, type, end)."""

    index: int
    nodes: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    rels: dict[tuple[str, str, str], list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    @property
    def uids(self) -> list[str]:
        return [row["uid"] for rows in self.nodes.values() for row in rows]

    @property
    def size(self) -> int:
        return sum(len(r) for r in self.nodes.values()) + sum(len(r) for r in self.rels.values())

    def digest(self) -> str:
        """A hash of everything the batch writes: equal digests mean re-applying it changes nothing."""
        payload = json.dumps([sorted(self.nodes.items()), sorted((list(k), v) for k, v in self.rels.items())],
                             sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def plan_batches(ontology: Ontology, records: list[Record], links: list[Link], batch_size: int) -> list[Batch]:
    """Cut the run into batches; a relationship goes to the batch of whichever end comes later."""
    size = max(1, batch_size)
    batches = [Batch(i) for i in range((len(records) + size - 1) // size)] or [Batch(0)]
    where: dict[tuple[str, str], int] = {}
    for position, record in enumerate(records):
        index = position // size
        where[(record.type, record.uid)] = index
        batches[index].nodes[ontology.class_spec(record.type).name].append(
            {"uid": record.uid, "props": record.props, "keys": sorted(record.props), "hash": content_hash(record),
             "sourceRecord": f"{record.source}:{record.line}"})

    def place(start_type: str, start: str, rel_type: str, end_type: str, end: str, row: dict[str, Any]) -> None:
        index = max(where.get((start_type, start), 0), where.get((end_type, end), 0))
        batches[index].rels[(start_type, rel_type, end_type)].append({"start": start, "end": end, **row})

    for record in records:
        for rel in record.rels:
            row = {"props": rel.props, "sourceRecord": f"{record.source}:{record.line}", "uid": record.uid}
            if rel.outgoing:
                place(record.type, record.uid, rel.type, rel.other_type, rel.other_uid, row)
            else:
                place(rel.other_type, rel.other_uid, rel.type, record.type, record.uid, row)
    for link in links:
        place(link.start_type, link.start_uid, link.type, link.end_type, link.end_uid,
              {"props": link.props, "sourceRecord": f"{link.source}:{link.line}",
               "uid": f"{link.start_uid}->{link.end_uid}"})
    return batches


class BatchWriter:
    """Writes planned batches, each in one transaction, and journals each commit."""

    def __init__(self, graph: Graph, ontology: Ontology, source: str, journal: Journal | None = None,
                 on_commit: Callable[[list[str], str], None] | None = None) -> None:
        self.graph, self.ontology, self.source, self.journal = graph, ontology, source, journal
        self.now = datetime.now(UTC).isoformat()
        self.on_commit = on_commit  # told (uids, write time) after each batch commits: alerts

    def write_all(self, batches: list[Batch], report: LoadReport, progress: bool = False) -> int:
        """Write every batch not already committed with the same content; returns how many were skipped."""
        done = self.journal.committed() if self.journal else {}
        ensure_schema(self.graph)
        skipped = 0
        with tqdm(total=sum(b.size for b in batches), desc=f"load {self.source}", unit="item",
                  disable=not progress) as bar:
            for batch in batches:
                digest = batch.digest()
                if done.get(batch.index) == digest and self._still_there(batch):
                    skipped += 1
                else:
                    self._write(batch, report)
                    if self.journal is not None:
                        self.journal.append("batch", index=batch.index, digest=digest, nodes=batch.uids,
                                            relationships=sum(len(r) for r in batch.rels.values()))
                    if self.on_commit is not None:
                        self.on_commit(batch.uids, self.now)
                bar.update(batch.size)
        return skipped

    def _still_there(self, batch: Batch) -> bool:
        """A journaled batch is skipped only if the graph still holds its nodes and edges as written."""
        for label, rows in batch.nodes.items():
            if self.graph.read(NODES_PRESENT.format(label=label), rows=rows)[0]["n"] != len(rows):
                return False
        for (start, rel_type, end), rows in batch.rels.items():
            cypher = RELATIONSHIPS_PRESENT.format(start=self.ontology.class_spec(start).name,
                                                  type=self.ontology.relationship(rel_type).type,
                                                  end=self.ontology.class_spec(end).name)
            pairs = {(row["start"], row["end"]) for row in rows}
            if self.graph.read(cypher, rows=rows)[0]["n"] != len(pairs):
                return False
        return True

    def _drop_suppressed(self, batch: Batch, report: LoadReport) -> Batch:
        """The batch without records of erased subjects (`kcrm.kg.suppression`) and their relationships."""
        listed = suppressed(self.graph, [(label, row["uid"]) for label, rows in batch.nodes.items() for row in rows])
        if not listed:
            return batch
        kept = Batch(batch.index)
        for label, rows in batch.nodes.items():
            for row in rows:
                if (label, row["uid"]) in listed:
                    report.suppressed[label] += 1
                else:
                    kept.nodes[label].append(row)
        for (start, rel_type, end), rows in batch.rels.items():
            kept.rels[(start, rel_type, end)] = [row for row in rows if (start, row["start"]) not in listed
                                                 and (end, row["end"]) not in listed]
        log.info("dropped %d records of erased subjects (suppression list)", len(listed))
        return kept

    def _write(self, batch: Batch, report: LoadReport) -> None:
        batch = self._drop_suppressed(batch, report)
        statements: list[tuple[str, str, dict[str, Any]]] = []
        for label, rows in sorted(batch.nodes.items()):
            statements.append(("node", label, {"cypher": UPSERT_NODES.format(label=label), "rows": rows}))
        for (start, rel_type, end), rows in sorted(batch.rels.items()):
            cypher = UPSERT_RELATIONSHIPS.format(start=self.ontology.class_spec(start).name,
                                                 type=self.ontology.relationship(rel_type).type,
                                                 end=self.ontology.class_spec(end).name)
            statements.append(("rel", f"{start}|{rel_type}|{end}", {"cypher": cypher, "rows": rows}))

        @unit_of_work(timeout=self.graph.timeout_s)
        def work(tx: Any) -> list[list[dict[str, Any]]]:
            return [[r.data() for r in tx.run(s["cypher"], rows=s["rows"], source=self.source, now=self.now)]
                    for _, _, s in statements]

        try:
            with self.graph.driver.session(database=self.graph.database) as session:
                results = session.execute_write(work)
        except GRAPH_ERRORS as exc:
            if (mapped := graph_error(exc, self.graph.uri, self.graph.timeout_s)) is None:
                raise
            raise mapped from exc
        for (kind, name, statement), rows in zip(statements, results):
            if kind == "node":
                for row in rows:
                    getattr(report, row["change"])[name] += row["n"]
                continue
            start, rel_type, end = name.split("|")
            report.relationships[rel_type] += len(statement["rows"]) - len(rows)
            for row in rows:
                absent, label = (row["start"], start) if row["missingStart"] else (row["end"], end)
                file, _, line = row["sourceRecord"].rpartition(":")
                report.rejected.append(Problem(file, int(line), row["uid"], f"rels.{rel_type}",
                                               f"no {label} with uid {absent!r} in the graph"))


__all__ = ["Batch", "BatchWriter", "plan_batches"]
