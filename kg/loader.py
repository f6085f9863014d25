"""The Cypher of idempotent upserts with provenance, and the report of what a load did.

`ingest/batches.py` runs these statements, one batch per transaction, for both the `ingest`
and `load` commands (one write path). Nodes are merged on `uid` per label; a node is rewritten only
when its content hash changes, so loading the same data twice changes nothing (counts,
properties and the `ingestedAt` of first sight all stay). A rewrite replaces only what the
source owns: the keys the source wrote last time (`sourceKeys`) that its new record lacks are
removed, the record's properties are set, and everything else on the node — what `kcrm mine`
computed, what duplicate resolution merged in — stays. (A node written before `sourceKeys`
existed loses no key on its first rewrite.) Relationships are merged between existing nodes; a
relationship whose other end does not exist is reported, not silently dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kcrm.kg.records import Problem, Record

log = logging.getLogger(__name__)

UPSERT_NODES = """
UNWIND $rows AS row
MERGE (n:`{label}` {{uid: row.uid}})
WITH n, row, n.ingestedAt AS firstSeen, n.contentHash AS oldHash
CALL (n, row, firstSeen, oldHash) {{
  WITH n, row, firstSeen, oldHash WHERE oldHash IS NULL OR oldHash <> row.hash
  FOREACH (key IN [k IN coalesce(n.sourceKeys, []) WHERE NOT k IN row.keys] | SET n[key] = null)
  SET n += row.props
  SET n.uid = row.uid, n.contentHash = row.hash, n.source = $source, n.sourceKeys = row.keys,
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
    suppressed: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def nodes_written(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": dict(self.created), "updated": dict(self.updated), "unchanged": dict(self.unchanged),
            "relationships": dict(self.relationships), "rejected": [p.as_dict() for p in self.rejected],
            "suppressed": dict(self.suppressed),
        }


def content_hash(record: Record) -> str:
    """A stable hash of a record's properties: the test of whether a node changed."""
    payload = json.dumps(record.props, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
