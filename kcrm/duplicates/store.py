"""Possible duplicates and the decisions taken on them, in the service state of the shared Neo4j.

A possible duplicate is a question for a person, not customer knowledge, so it lives beside the
graph under its own label (`KcrmPossibleDuplicate`, see kcrm/statedb.py), like the alerts: every
API process, `kcrm ingest` and `kcrm duplicates` run share one set, with no per-process file. A
pair is stored once whatever the order of its uids (its id is a hash of the sorted pair, under a
uniqueness constraint); re-ingesting the same source finds the same pairs and adds nothing. A pair
dismissed, or merged and then unmerged, is *kept apart*: ingest never merges or suggests it again.
A decision checks the pair's status under the node's write lock, so two people deciding the same
pair at once get one success and one 409. The ingest source is kept as `pair_source`: state nodes
never carry the `source` property that pruning selects on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import KcrmError
from kcrm.kg.connection import Graph
from kcrm.statedb import DUPLICATE, SERVICE_LABEL, state_graph

Status = Literal["open", "merged", "dismissed", "unmerged"]
STATUSES: tuple[str, ...] = ("open", "merged", "dismissed", "unmerged")
KEPT_APART = ("dismissed", "unmerged")
FIELDS = "p{.id, .existing, .incoming, source: p.pair_source, .score, .evidence, .status, .created_at, .decided_at, .decided_by}"

ADD = f"""
UNWIND $rows AS row
MERGE (p:{SERVICE_LABEL}:{DUPLICATE} {{id: row.id}})
ON CREATE SET p += row.props, p.status = 'open', p.created_at = $now, p._new = true
WITH p WHERE p._new
REMOVE p._new
RETURN count(p) AS added
"""
GET = f"MATCH (p:{DUPLICATE} {{id: $id}}) RETURN {FIELDS} AS p"
LIST = f"""
MATCH (p:{DUPLICATE})
WHERE ($status IS NULL OR p.status = $status) AND ($uid IS NULL OR p.existing = $uid OR p.incoming = $uid)
RETURN {FIELDS} AS p ORDER BY p.score DESC, p.id
"""
DECIDE = f"""
MATCH (p:{DUPLICATE} {{id: $id}})
SET p._lock = true
WITH p, p.status IN $expect AS ok, p.status AS was
REMOVE p._lock
FOREACH (_ IN CASE WHEN ok THEN [1] ELSE [] END |
  SET p.status = $status, p.decided_at = $now, p.decided_by = $by)
RETURN ok, was, {FIELDS} AS p
"""
UNMERGE = f"""
MERGE (p:{SERVICE_LABEL}:{DUPLICATE} {{id: $id}})
ON CREATE SET p.existing = $keep, p.incoming = $merged, p.pair_source = '', p.score = 0.0, p.evidence = '{{}}',
              p.created_at = $now
SET p.status = 'unmerged', p.decided_at = $now, p.decided_by = $by
RETURN {FIELDS} AS p
"""
KEPT = f"MATCH (p:{DUPLICATE}) WHERE p.status IN $statuses RETURN p.existing AS existing, p.incoming AS incoming"


class DuplicateNotFound(KcrmError):
    """No possible duplicate with that id."""

    status = 404
    title = "Possible duplicate not found"


class DuplicateDecided(KcrmError):
    """The pair was already decided; its current status says how."""

    status = 409
    title = "Possible duplicate already decided"


@dataclass(frozen=True)
class PossiblePair:
    """A stored possible duplicate: `existing` was in the graph, `incoming` came with `source`."""

    id: str
    existing: str
    incoming: str
    source: str
    score: float
    evidence: dict[str, str]
    status: str
    created_at: str
    decided_at: str | None = None
    decided_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def pair_id(a: str, b: str) -> str:
    """A stable id for an unordered pair: the same two customers always get the same id."""
    low, high = sorted((a, b))
    return "dup-" + hashlib.sha256(f"{low}\x00{high}".encode()).hexdigest()[:12]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _pair(data: dict[str, Any]) -> PossiblePair:
    # Neo4j stores no maps as properties: the evidence travels as sorted JSON text.
    return PossiblePair(**{**data, "score": float(data["score"]), "evidence": json.loads(data["evidence"] or "{}")})


class DuplicateStore:
    """The possible duplicates in the state store every process shares; safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def graph(self) -> Graph:
        return state_graph(self.settings)

    def add(self, pairs: list[dict[str, Any]]) -> int:
        """Store the run's possible duplicates (`existing`, `incoming`, `source`, `score`, `evidence`); new ones count."""
        if not pairs:
            return 0
        rows, seen = [], set()
        for pair in pairs:
            key = pair_id(pair["existing"], pair["incoming"])
            if key in seen:  # the first of a repeated pair wins, as the SQL INSERT OR IGNORE did
                continue
            seen.add(key)
            rows.append({"id": key, "props": {
                "existing": pair["existing"], "incoming": pair["incoming"], "pair_source": pair["source"],
                "score": float(pair["score"]), "evidence": json.dumps(pair["evidence"], sort_keys=True)}})
        return int(self.graph.write(ADD, rows=rows, now=_now())[0]["added"])

    def get(self, pair: str) -> PossiblePair:
        """One pair by id, or DuplicateNotFound."""
        rows = self.graph.read(GET, id=pair)
        if not rows:
            raise DuplicateNotFound(f"no possible duplicate {pair!r}")
        return _pair(rows[0]["p"])

    def list(self, status: str | None = "open", uid: str | None = None) -> list[PossiblePair]:
        """Pairs with this status (None: all), optionally only those that involve customer `uid`; best first."""
        return [_pair(r["p"]) for r in self.graph.read(LIST, status=status, uid=uid)]

    def decide(self, pair: str, status: Status, by: str, expect: tuple[str, ...] = ("open",)) -> PossiblePair:
        """Record a person's decision; DuplicateDecided when the pair is not in one of the `expect` statuses.

        The check and the write are one transaction under the node's write lock, so of two
        concurrent decisions on an open pair exactly one wins.
        """
        rows = self.graph.write(DECIDE, id=pair, expect=list(expect), status=status, now=_now(), by=by)
        if not rows:
            raise DuplicateNotFound(f"no possible duplicate {pair!r}")
        if not rows[0]["ok"]:
            raise DuplicateDecided(f"possible duplicate {pair} is already {rows[0]['was']}")
        return _pair(rows[0]["p"])

    def record_unmerge(self, keep: str, merged: str, by: str) -> PossiblePair:
        """Mark the pair kept apart after an undo, creating it when the merge was automatic (never suggested)."""
        rows = self.graph.write(UNMERGE, id=pair_id(keep, merged), keep=keep, merged=merged, now=_now(), by=by)
        return _pair(rows[0]["p"])

    def kept_apart(self) -> frozenset[tuple[str, str]]:
        """Pairs (in sorted order) a person said are different customers."""
        rows = self.graph.read(KEPT, statuses=list(KEPT_APART))
        return frozenset(tuple(sorted((r["existing"], r["incoming"]))) for r in rows)  # type: ignore[misc]


__all__ = ["DuplicateDecided", "DuplicateNotFound", "DuplicateStore", "PossiblePair", "STATUSES", "pair_id"]
