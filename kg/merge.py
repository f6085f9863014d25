"""Merge two customer nodes a person decided are one, and undo any merge from its `mergeLog` entry.

A merge is data loss unless it can be taken back, so every merge — by a person here, or
automatic during ingest (`ingest/dedupe.py`) — leaves on the kept node one `mergeLog` entry
(JSON) holding what undoing it needs: the merged node's labels and every property it had, the
properties it filled in on the kept node (`filled`), and each relationship it brought (`rels`:
type, direction, the other end, its properties, and whether the kept node already had it). The
kept node's own `accessGroups` are never widened or narrowed by a merge: the merged node's
groups stay in the entry and come back with it.

`unmerge` recreates the merged node with its labels and properties, moves its relationships back
and removes what it had filled in; both run in one transaction, so a failure leaves the graph as
it was. Labels and relationship types enter Cypher only after the ontology accepts them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kcrm.foundation.errors import EntityNotFound, KcrmError
from kcrm.kg.connection import Graph
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)

MERGED_CLASS = "Customer"
# Bookkeeping a merge never copies onto the kept node: provenance of the other node, and its groups.
NOT_FILLED = frozenset({"uid", "contentHash", "sourceKeys", "source", "sourceRecord", "ingestedAt", "updatedAt",
                        "mergedFrom", "mergeLog", "accessGroups"})

NODE = "MATCH (n:`{label}` {{uid: $uid}}) RETURN properties(n) AS props, labels(n) AS labels"
NODE_RELS = """
MATCH (n:`{label}` {{uid: $uid}})-[r]-(o) WHERE o <> n
RETURN type(r) AS type, startNode(r) = n AS out, o.uid AS other, labels(o) AS labels, properties(r) AS props
"""
CREATE_REL = """
UNWIND $rows AS row
MATCH (n:`{label}` {{uid: row.uid}}) MATCH (o:`{other}` {{uid: row.other}})
{create} SET r = row.props
"""
DELETE_REL = """
UNWIND $rows AS row
MATCH (n:`{label}` {{uid: row.uid}}){pattern}(o:`{other}` {{uid: row.other}})
DELETE r
"""
DELETE_NODE = "MATCH (n:`{label}` {{uid: $uid}}) DETACH DELETE n"
CREATE_NODE = "CREATE (n:`{label}`) SET n = $props"
SET_KEPT = """
MATCH (n:`{label}` {{uid: $uid}})
SET n += $fill,
    n.mergedFrom = CASE WHEN size($mergedFrom) = 0 THEN null ELSE $mergedFrom END,
    n.mergeLog = CASE WHEN size($mergeLog) = 0 THEN null ELSE $mergeLog END
FOREACH (key IN $unfill | SET n[key] = null)
"""


class MergeRefused(KcrmError):
    """The merge or unmerge cannot be done as asked (nothing was changed)."""

    status = 409
    title = "Merge refused"


@dataclass(frozen=True)
class MergeOutcome:
    """What a merge or unmerge did."""

    keep: str
    merged: str
    relationships: int
    filled: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"keep": self.keep, "merged": self.merged, "relationships": self.relationships, "filled": self.filled}


def log_entries(raw: Any) -> list[dict[str, Any]]:
    """The decoded `mergeLog` of a node (entries that are not JSON objects are skipped)."""
    entries = []
    for item in raw if isinstance(raw, list) else []:
        try:
            entry = json.loads(item)
        except (TypeError, ValueError):
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def encode_log(entries: list[dict[str, Any]]) -> list[str]:
    """`mergeLog` as stored: one JSON string per entry, keys sorted."""
    return [json.dumps(e, ensure_ascii=False, sort_keys=True, default=str) for e in entries]


class _Tx:
    """Statements gathered for one write transaction."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, dict[str, Any]]] = []

    def add(self, cypher: str, **params: Any) -> None:
        self.statements.append((cypher, params))

    def run(self, graph: Graph) -> None:
        graph.write_all(self.statements)


def _label_of(ontology: Ontology, labels: list[str]) -> str:
    for label in labels:
        if label in ontology.classes:
            return ontology.class_spec(label).name
    raise MergeRefused(f"a related node has no label of the ontology ({', '.join(labels)}); nothing was merged")


def _pattern(rel_type: str, out: bool) -> str:
    return f"-[r:`{rel_type}`]->" if out else f"<-[r:`{rel_type}`]-"


def _rel_statements(tx: _Tx, ontology: Ontology, label: str, uid: str, rels: list[dict[str, Any]],
                    create: bool) -> None:
    """Create (or delete) the given relationships of node `uid`, grouped by type, direction and other label."""
    groups: dict[tuple[str, bool, str], list[dict[str, Any]]] = {}
    for rel in rels:
        rel_type = ontology.relationship(rel["type"]).type
        other = ontology.class_spec(rel["otherLabel"]).name
        groups.setdefault((rel_type, bool(rel["out"]), other), []).append(
            {"uid": uid, "other": rel["other"], "props": rel.get("props") or {}})
    for (rel_type, out, other), rows in sorted(groups.items()):
        if create:
            shape = f"CREATE (n){_pattern(rel_type, out)}(o)"
            tx.add(CREATE_REL.format(label=label, other=other, create=shape), rows=rows)
        else:
            tx.add(DELETE_REL.format(label=label, other=other, pattern=_pattern(rel_type, out)), rows=rows)


def _node(graph: Graph, label: str, uid: str) -> dict[str, Any]:
    rows = graph.read(NODE.format(label=label), uid=uid)
    if not rows:
        raise EntityNotFound(f"no {label} with uid {uid!r}")
    return rows[0]


def _rels(graph: Graph, ontology: Ontology, label: str, uid: str) -> list[dict[str, Any]]:
    out = []
    for row in graph.read(NODE_RELS.format(label=label), uid=uid):
        if row["type"] not in ontology.relationships:
            raise MergeRefused(f"{uid} has a {row['type']} relationship the ontology does not know; nothing was merged")
        out.append({"type": row["type"], "out": row["out"], "other": row["other"],
                    "otherLabel": _label_of(ontology, row["labels"]), "props": row["props"]})
    return out


def merge_nodes(graph: Graph, ontology: Ontology, keep: str, merged: str, rule: str, score: float,
                by: str, evidence: dict[str, Any] | None = None) -> MergeOutcome:
    """Fold node `merged` into node `keep` (both customers): relationships moved, gaps filled, all logged."""
    if keep == merged:
        raise MergeRefused("a customer cannot be merged into itself")
    label = ontology.class_spec(MERGED_CLASS).name
    kept, gone = _node(graph, label, keep), _node(graph, label, merged)
    kept_rels = {(r["type"], r["out"], r["other"]) for r in _rels(graph, ontology, label, keep)}
    moved = []
    for rel in _rels(graph, ontology, label, merged):
        if rel["other"] == keep:
            continue  # a relationship between the two disappears with the merged node, and comes back on undo
        moved.append({**rel, "existed": (rel["type"], rel["out"], rel["other"]) in kept_rels})
    props = kept["props"]
    fill = {k: v for k, v in gone["props"].items() if k not in NOT_FILLED and props.get(k) in (None, "", [])}
    entry = {"merged": merged, "source": gone["props"].get("source", ""), "rule": rule, "score": score, "by": by,
             "mergedAt": datetime.now(UTC).isoformat(), "labels": gone["labels"], "props": gone["props"],
             "filled": sorted(fill), "rels": moved, "evidence": evidence or {}}
    entries = [e for e in log_entries(props.get("mergeLog")) if e.get("merged") != merged] + [entry]
    tx = _Tx()
    tx.add(DELETE_NODE.format(label=label), uid=merged)
    _rel_statements(tx, ontology, label, keep, [r for r in moved if not r["existed"]], create=True)
    tx.add(SET_KEPT.format(label=label), uid=keep, fill=fill, unfill=[],
           mergedFrom=sorted({e["merged"] for e in entries}), mergeLog=encode_log(entries))
    tx.run(graph)
    log.info("merged %s into %s (%s, by %s): %d relationships moved", merged, keep, rule, by, len(moved))
    return MergeOutcome(keep, merged, len(moved), sorted(fill))


def unmerge(graph: Graph, ontology: Ontology, keep: str, merged: str) -> MergeOutcome:
    """Undo the merge of `merged` into `keep` from its `mergeLog` entry: both nodes as they were."""
    label = ontology.class_spec(MERGED_CLASS).name
    kept = _node(graph, label, keep)
    entries = log_entries(kept["props"].get("mergeLog"))
    entry = next((e for e in entries if e.get("merged") == merged), None)
    if entry is None:
        raise MergeRefused(f"{keep} has no record of merging {merged}: nothing to undo")
    if graph.read(NODE.format(label=label), uid=merged):
        raise MergeRefused(f"a node {merged} exists again (re-ingested?); remove it or merge it before undoing")
    labels = [ontology.class_spec(x).name for x in entry.get("labels") or [MERGED_CLASS] if x in ontology.classes]
    restored = {k: v for k, v in (entry.get("props") or {}).items() if v is not None}
    restored["uid"] = merged
    if "sourceRecord" in entry and "sourceRecord" not in restored:
        restored["sourceRecord"] = entry["sourceRecord"]
    if entry.get("source") and "source" not in restored:
        restored["source"] = entry["source"]
    rels = entry.get("rels") or []
    rest = [e for e in entries if e is not entry]
    filled = [k for k in entry.get("filled") or [] if k not in NOT_FILLED]
    tx = _Tx()
    tx.add(CREATE_NODE.format(label=labels[0] if labels else label), props=restored)
    _rel_statements(tx, ontology, label, keep, [r for r in rels if not r.get("existed")], create=False)
    _rel_statements(tx, ontology, label, merged, rels, create=True)
    tx.add(SET_KEPT.format(label=label), uid=keep, fill={}, unfill=filled,
           mergedFrom=sorted({e["merged"] for e in rest}), mergeLog=encode_log(rest))
    tx.run(graph)
    log.info("unmerged %s from %s: %d relationships moved back", merged, keep, len(rels))
    return MergeOutcome(keep, merged, len(rels), filled)


__all__ = ["MERGED_CLASS", "MergeOutcome", "MergeRefused", "encode_log", "log_entries", "merge_nodes", "unmerge"]
