"""Possible duplicates and the decisions taken on them, in one SQLite file in the data dir.

A possible duplicate is a question for a person, not customer knowledge, so it lives beside the
graph (DATA_DIR/duplicates.sqlite3, WAL mode so an ingest and the API can write at once), like
the alerts. A pair is stored once whatever the order of its uids; re-ingesting the same source
finds the same pairs and adds nothing. A pair dismissed, or merged and then unmerged, is *kept
apart*: ingest never merges or suggests it again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from kcrm.errors import KcrmError

Status = Literal["open", "merged", "dismissed", "unmerged"]
STATUSES: tuple[str, ...] = ("open", "merged", "dismissed", "unmerged")
KEPT_APART = ("dismissed", "unmerged")
SCHEMA = """
CREATE TABLE IF NOT EXISTS possible_duplicates (
  id TEXT PRIMARY KEY, existing TEXT NOT NULL, incoming TEXT NOT NULL, source TEXT NOT NULL,
  score REAL NOT NULL, evidence TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
  decided_at TEXT, decided_by TEXT, UNIQUE (existing, incoming));
CREATE INDEX IF NOT EXISTS possible_duplicates_status ON possible_duplicates(status);
"""


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


class DuplicateStore:
    """The possible-duplicates table; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> DuplicateStore:
        """The store of a data dir."""
        return cls(data_dir / "duplicates.sqlite3")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = sqlite3.connect(self.path, timeout=30)
            db.row_factory = sqlite3.Row
            try:
                with db:
                    yield db
            finally:
                db.close()

    @staticmethod
    def _row(row: sqlite3.Row) -> PossiblePair:
        data = dict(row)
        data["evidence"] = json.loads(data["evidence"])
        return PossiblePair(**data)

    def add(self, pairs: list[dict[str, Any]]) -> int:
        """Store the run's possible duplicates (`existing`, `incoming`, `source`, `score`, `evidence`); new ones count."""
        added = 0
        with self._connect() as db:
            for pair in pairs:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO possible_duplicates (id, existing, incoming, source, score, evidence, "
                    "status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?)",
                    (pair_id(pair["existing"], pair["incoming"]), pair["existing"], pair["incoming"], pair["source"],
                     float(pair["score"]), json.dumps(pair["evidence"], sort_keys=True), _now()))
                added += cursor.rowcount
        return added

    def get(self, pair: str) -> PossiblePair:
        """One pair by id, or DuplicateNotFound."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM possible_duplicates WHERE id = ?", (pair,)).fetchone()
        if row is None:
            raise DuplicateNotFound(f"no possible duplicate {pair!r}")
        return self._row(row)

    def list(self, status: str | None = "open", uid: str | None = None) -> list[PossiblePair]:
        """Pairs with this status (None: all), optionally only those that involve customer `uid`; best first."""
        sql, params = "SELECT * FROM possible_duplicates WHERE 1 = 1", []
        if status is not None:
            sql, params = sql + " AND status = ?", [status]
        if uid is not None:
            sql, params = sql + " AND (existing = ? OR incoming = ?)", [*params, uid, uid]
        with self._connect() as db:
            rows = db.execute(sql + " ORDER BY score DESC, id", params).fetchall()
        return [self._row(r) for r in rows]

    def decide(self, pair: str, status: Status, by: str, expect: tuple[str, ...] = ("open",)) -> PossiblePair:
        """Record a person's decision; DuplicateDecided when the pair is not in one of the `expect` statuses."""
        current = self.get(pair)
        if current.status not in expect:
            raise DuplicateDecided(f"possible duplicate {pair} is already {current.status}")
        with self._connect() as db:
            db.execute("UPDATE possible_duplicates SET status = ?, decided_at = ?, decided_by = ? WHERE id = ?",
                       (status, _now(), by, pair))
        return self.get(pair)

    def record_unmerge(self, keep: str, merged: str, by: str) -> PossiblePair:
        """Mark the pair kept apart after an undo, creating it when the merge was automatic (never suggested)."""
        pair = pair_id(keep, merged)
        with self._connect() as db:
            db.execute(
                "INSERT INTO possible_duplicates (id, existing, incoming, source, score, evidence, status, created_at,"
                " decided_at, decided_by) VALUES (?, ?, ?, '', 0, '{}', 'unmerged', ?, ?, ?) ON CONFLICT (id) DO "
                "UPDATE SET status = 'unmerged', decided_at = excluded.decided_at, decided_by = excluded.decided_by",
                (pair, keep, merged, _now(), _now(), by))
        return self.get(pair)

    def kept_apart(self) -> frozenset[tuple[str, str]]:
        """Pairs (in sorted order) a person said are different customers."""
        with self._connect() as db:
            rows = db.execute("SELECT existing, incoming FROM possible_duplicates WHERE status IN (?, ?)",
                              KEPT_APART).fetchall()
        return frozenset(tuple(sorted((r["existing"], r["incoming"]))) for r in rows)  # type: ignore[misc]


__all__ = ["DuplicateDecided", "DuplicateNotFound", "DuplicateStore", "PossiblePair", "STATUSES", "pair_id"]
