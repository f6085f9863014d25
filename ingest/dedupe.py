"""Fold an ingest's customers into the graph's customers from other sources when they are the same.

`kcrm.ingest.resolve` decides (strong keys only, never two records of one source in a cluster;
names alone make a possible duplicate, which the run reports and `kcrm duplicates` puts in front
of a person). Here an incoming Customer record that duplicates a node another source
created is not written as a node of its own: its relationships are re-pointed at the kept node
(they travel as links in the run's batches), the properties the kept node lacks are filled in,
and the merge is recorded on the kept node: `mergedFrom` (the merged uids) and `mergeLog` (one
JSON object per merged record: uid, source, sourceRecord, rule, score, mergedAt, and all the
properties it brought, so nothing from either source is lost; `filled` and `rels` say what undoing
it must take back, see `kcrm.kg.merge.unmerge`). Re-ingesting the same source finds the same
merges and changes nothing; a pair a person kept apart (dismissed, or unmerged) is never merged
or suggested again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kcrm.ingest.resolve import Candidate, resolve_all
from kcrm.kg.connection import Graph
from kcrm.kg.records import Link, Record, RelRef
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
KEPT_RELS = """
MATCH (c:`{label}`)-[r]-(o) WHERE c.uid IN $uids
RETURN c.uid AS uid, type(r) AS type, startNode(r) = c AS out, o.uid AS other
"""
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
    rels: list[dict[str, Any]] = field(default_factory=list)  # what the merged record brought, for undo

    def as_dict(self) -> dict[str, Any]:
        return {"keep": self.keep, "merged": self.merged, "source": self.source, "sourceRecord": self.source_record,
                "rule": self.rule, "score": self.score}


@dataclass(frozen=True)
class PossibleDuplicate:
    """An incoming customer that may be a graph node of another source: for a person to decide."""

    existing: str
    incoming: str
    source: str
    score: float
    evidence: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"existing": self.existing, "incoming": self.incoming, "source": self.source, "score": self.score,
                "evidence": self.evidence}


def pair_key(a: str, b: str) -> tuple[str, str]:
    """An unordered pair of uids in one canonical order."""
    return (a, b) if a <= b else (b, a)


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
                groups: Sequence[str] | None = None, kept_apart: frozenset[tuple[str, str]] = frozenset()
                ) -> tuple[list[MergeRecord], list[PossibleDuplicate]]:
    """Which of the run's customers are customers the graph already has from another source (merges), and
    which only may be (possible duplicates), among those a caller seeing `groups` may see (None: all);
    pairs in `kept_apart` (see `pair_key`) are neither."""
    incoming = [r for r in records if r.type == RESOLVED_CLASS]
    if not incoming:
        return [], []
    label = ontology.class_spec(RESOLVED_CLASS).name
    rows = graph.read(GRAPH_CANDIDATES.format(label=label), source=source, uids=[r.uid for r in incoming],
                      groups=query_groups(list(groups)) if groups is not None else None)
    if not rows:
        return [], []
    existing = [_candidate(row["uid"], row["props"], row["props"].get("source") or "") for row in rows]
    by_uid = {r.uid: r for r in incoming}
    candidates = existing + [_candidate(r.uid, r.props, source) for r in incoming]
    resolution = resolve_all(candidates, threshold, distinct_sources=True)
    merges = []
    for merge in resolution.merges:
        record = by_uid.get(merge.merged)
        if record is None or merge.keep in by_uid:  # only incoming records fold, and only into graph nodes
            continue
        if pair_key(merge.keep, merge.merged) in kept_apart:
            continue
        merges.append(MergeRecord(merge.keep, record.uid, source, f"{record.source}:{record.line}", merge.rule,
                                  merge.score, record.props))
    merged = {m.merged for m in merges}
    possible = []
    for pair in resolution.possible:
        old, new = (pair.a, pair.b) if pair.b in by_uid else (pair.b, pair.a)
        if old in by_uid or new not in by_uid or new in merged or pair_key(old, new) in kept_apart:
            continue
        possible.append(PossibleDuplicate(old, new, source, pair.score, pair.evidence))
    return merges, possible


def mark_existing(graph: Graph, ontology: Ontology, merges: list[MergeRecord]) -> None:
    """Note which relationships a merge brings that the kept node already has (undo must leave those)."""
    if not merges:
        return
    label = ontology.class_spec(RESOLVED_CLASS).name
    present = {(row["uid"], row["type"], row["out"], row["other"])
               for row in graph.read(KEPT_RELS.format(label=label), uids=sorted({m.keep for m in merges}))}
    for merge in merges:
        for rel in merge.rels:
            rel["existed"] = (merge.keep, rel["type"], rel["out"], rel["other"]) in present


def fold(records: list[Record], links: list[Link], merges: list[MergeRecord]) -> tuple[list[Record], list[Link]]:
    """The run without the merged records; everything that pointed at them points at the kept node.

    Each merge's `rels` is filled with the relationships re-pointed at the kept node because of it.
    """
    target = {m.merged: m.keep for m in merges}
    if not target:
        return records, links
    brought = {m.merged: m.rels for m in merges}

    def point(uid: str, kind: str) -> str:
        return target.get(uid, uid) if kind == RESOLVED_CLASS else uid

    def note(merged: str, rel_type: str, out: bool, other: str, other_type: str, props: dict[str, Any]) -> None:
        brought[merged].append({"type": rel_type, "out": out, "other": point(other, other_type),
                                "otherLabel": other_type, "props": props})

    kept_records: list[Record] = []
    new_links: list[Link] = []
    for record in records:
        for r in record.rels:
            if r.other_type == RESOLVED_CLASS and r.other_uid in target and record.uid not in target:
                note(r.other_uid, r.type, not r.outgoing, record.uid, record.type, r.props)
        rels = tuple(RelRef(r.type, point(r.other_uid, r.other_type), r.other_type, r.outgoing, r.props)
                     for r in record.rels)
        if record.type == RESOLVED_CLASS and record.uid in target:
            keep = target[record.uid]
            for rel in rels:
                note(record.uid, rel.type, rel.outgoing, rel.other_uid, rel.other_type, rel.props)
                start, start_type, end, end_type = ((keep, record.type, rel.other_uid, rel.other_type) if rel.outgoing
                                                    else (rel.other_uid, rel.other_type, keep, record.type))
                new_links.append(Link(rel.type, start, start_type, end, end_type, rel.props, record.source,
                                      record.line))
            continue
        kept_records.append(Record(record.type, record.uid, record.props, rels, record.source, record.line,
                                   record.rank))
    for l in links:
        if l.start_type == RESOLVED_CLASS and l.start_uid in target:
            note(l.start_uid, l.type, True, l.end_uid, l.end_type, l.props)
        if l.end_type == RESOLVED_CLASS and l.end_uid in target:
            note(l.end_uid, l.type, False, l.start_uid, l.start_type, l.props)
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
            filled = sorted(k for k, v in merge.props.items() if props.get(k) in (None, "", []) and k not in fill)
            fill.update({k: merge.props[k] for k in filled})
            changed = changed or bool(filled)
            entry = {**merge.as_dict(), "props": merge.props, "labels": [RESOLVED_CLASS], "rels": merge.rels,
                     "filled": filled}
            entry.pop("keep")
            old = next((e for e in entries if e.get("merged") == merge.merged and e.get("source") == merge.source),
                       None)
            # the same record merged again is the same merge, even if the evidence now includes what it filled in
            if old is None or (old.get("props"), old.get("sourceRecord")) != (entry["props"], entry["sourceRecord"]):
                entries = [e for e in entries if e is not old] + [{**entry, "mergedAt": now}]
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


__all__ = ["MergeRecord", "PossibleDuplicate", "find_merges", "fold", "mark_existing", "pair_key", "write_merges"]
