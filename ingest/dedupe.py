"""Fold an ingest's customers into the graph's customers from other sources when they are the same.

`kcrm.ingest.resolve` decides (keys first, then names in both scripts, never two records of one
source in a cluster). Here an incoming Customer record that duplicates a node another source
created is not written as a node of its own: its relationships are re-pointed at the kept node
(they travel as links in the run's batches), the properties the kept node lacks are filled in,
and the merge is recorded on the kept node: `mergedFrom` (the merged uids) and `mergeLog` (one
JSON object per merged record: uid, source, sourceRecord, rule, score, mergedAt, and all the
properties it brought, so nothing from either source is lost). Re-ingesting the same source
finds the same merges and changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from collections.abc import Sequence
from typing import Any

from kcrm.ingest.records import Link, Record, RelRef
from kcrm.ingest.resolve import Candidate, resolve
from kcrm.kg.connection import Graph
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)

RESOLVED_CLASS = "Customer"
# Only customers the ingesting caller may see ($groups; null: all) can take in its records.
GRAPH_CANDIDATES = f"""
MATCH (c:`{{label}}`) WHERE NOT c.uid IN $uids AND coalesce(c['source'], '') <> $source AND {visible('c')}
RETURN c.uid AS uid, properties(c) AS props
"""
KEPT_NODES = "MATCH (c:`{label}`) WHERE c.uid IN $uids RETURN c.uid AS uid, properties(c) AS props"
WRITE_MERGES = """
UNWIND $rows AS row
MATCH (c:`{label}` {{uid: row.uid}})
SET c += row.fill, c.mergedFrom = row.mergedFrom, c.mergeLog = row.mergeLog
"""


@dataclass(frozen=True)
class MergeRecord:
    """An incoming record folded into a node of the graph, with the evidence."""

    keep: str
    merged: str
    source: str
    source_record: str
    rule: str
    score: float
    props: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"keep": self.keep, "merged": self.merged, "source": self.source, "sourceRecord": self.source_record,
                "rule": self.rule, "score": self.score}


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


def _aliases(props: dict[str, Any]) -> tuple[str, ...]:
    out = []
    for key in ("nameZh", "altLabels"):
        value = props.get(key)
        out += [str(v) for v in (value if isinstance(value, list) else [value]) if v]
    return tuple(out)


def _candidate(uid: str, props: dict[str, Any], source: str) -> Candidate:
    return Candidate(uid, _first(props.get("name")) or "", email=_first(props.get("email")),
                     phone=_first(props.get("phone")), source=source, aliases=_aliases(props))


def find_merges(graph: Graph, ontology: Ontology, records: list[Record], source: str, threshold: float,
                groups: Sequence[str] | None = None) -> list[MergeRecord]:
    """Which of the run's customers are customers the graph already has from another source
    (among those a caller seeing `groups` may see; None: all)."""
    incoming = [r for r in records if r.type == RESOLVED_CLASS]
    if not incoming:
        return []
    label = ontology.class_spec(RESOLVED_CLASS).name
    rows = graph.read(GRAPH_CANDIDATES.format(label=label), source=source, uids=[r.uid for r in incoming],
                      groups=query_groups(list(groups)) if groups is not None else None)
    if not rows:
        return []
    existing = [_candidate(row["uid"], row["props"], row["props"].get("source") or "") for row in rows]
    by_uid = {r.uid: r for r in incoming}
    candidates = existing + [_candidate(r.uid, r.props, source) for r in incoming]
    merges = []
    for merge in resolve(candidates, threshold, distinct_sources=True):
        record = by_uid.get(merge.merged)
        if record is None or merge.keep in by_uid:  # only incoming records fold, and only into graph nodes
            continue
        merges.append(MergeRecord(merge.keep, record.uid, source, f"{record.source}:{record.line}", merge.rule,
                                  merge.score, record.props))
    return merges


def fold(records: list[Record], links: list[Link], merges: list[MergeRecord]) -> tuple[list[Record], list[Link]]:
    """The run without the merged records; everything that pointed at them points at the kept node."""
    target = {m.merged: m.keep for m in merges}
    if not target:
        return records, links

    def point(uid: str, kind: str) -> str:
        return target.get(uid, uid) if kind == RESOLVED_CLASS else uid

    kept_records: list[Record] = []
    new_links: list[Link] = []
    for record in records:
        rels = tuple(RelRef(r.type, point(r.other_uid, r.other_type), r.other_type, r.outgoing, r.props)
                     for r in record.rels)
        if record.type == RESOLVED_CLASS and record.uid in target:
            keep = target[record.uid]
            for rel in rels:
                start, start_type, end, end_type = ((keep, record.type, rel.other_uid, rel.other_type) if rel.outgoing
                                                    else (rel.other_uid, rel.other_type, keep, record.type))
                new_links.append(Link(rel.type, start, start_type, end, end_type, rel.props, record.source,
                                      record.line))
            continue
        kept_records.append(Record(record.type, record.uid, record.props, rels, record.source, record.line))
    moved = [Link(l.type, point(l.start_uid, l.start_type), l.start_type, point(l.end_uid, l.end_type), l.end_type,
                  l.props, l.source, l.line) for l in links]
    return kept_records, moved + new_links


def _log_entries(raw: Any) -> list[dict[str, Any]]:
    entries = []
    for item in raw if isinstance(raw, list) else []:
        try:
            entries.append(json.loads(item))
        except (TypeError, ValueError):
            continue
    return entries


def write_merges(graph: Graph, ontology: Ontology, merges: list[MergeRecord]) -> int:
    """Fill in what the kept nodes lack and record each merge on them; returns how many nodes changed."""
    if not merges:
        return 0
    label = ontology.class_spec(RESOLVED_CLASS).name
    nodes = {row["uid"]: row["props"] for row in graph.read(KEPT_NODES.format(label=label),
                                                               uids=sorted({m.keep for m in merges}))}
    now = datetime.now(UTC).isoformat()
    rows = []
    for keep, props in nodes.items():
        entries = _log_entries(props.get("mergeLog"))
        fill: dict[str, Any] = {}
        changed = False
        for merge in (m for m in merges if m.keep == keep):
            entry = {**merge.as_dict(), "props": merge.props}
            entry.pop("keep")
            old = next((e for e in entries if e.get("merged") == merge.merged and e.get("source") == merge.source),
                       None)
            # the same record merged again is the same merge, even if the evidence now includes what it filled in
            if old is None or (old.get("props"), old.get("sourceRecord")) != (entry["props"], entry["sourceRecord"]):
                entries = [e for e in entries if e is not old] + [{**entry, "mergedAt": now}]
                changed = True
            for key, value in merge.props.items():
                if props.get(key) in (None, "", []) and key not in fill:
                    fill[key] = value
                    changed = True
        if changed:
            rows.append({"uid": keep, "fill": fill,
                         "mergedFrom": sorted({e["merged"] for e in entries}),
                         "mergeLog": [json.dumps(e, ensure_ascii=False, sort_keys=True, default=str)
                                      for e in entries]})
    if rows:
        graph.write(WRITE_MERGES.format(label=label), rows=rows)
    for merge in merges:
        log.info("merged %s (%s) into %s by %s %.1f", merge.merged, merge.source, merge.keep, merge.rule, merge.score)
    return len(rows)


__all__ = ["MergeRecord", "find_merges", "fold", "write_merges"]
