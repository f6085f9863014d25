"""The ingest journal: what a run has committed, so a killed run can be resumed.

One append-only JSON Lines file per run, `DATA_DIR/ingest/<run id>/journal.jsonl`, beside the
run's report and quarantine; every entry is flushed and fsync'd before the run goes on. A file
rather than nodes in Neo4j because it is bookkeeping, not customer knowledge: the graph holds
only the ontology's classes (which search, analytics and SHACL all walk), and a journal must be
readable when the graph is not. Entries:

    {"event": "start", "key": ..., "path": ..., "source": ..., "at": ..., "pid": ...}
    {"event": "plan", "batches": N, "records": R, "links": L, "at": ...}
    {"event": "batch", "index": i, "digest": ..., "nodes": [uids], "relationships": n, "at": ...}
    {"event": "resume", "at": ..., "pid": ...}
    {"event": "merges", "merged": M, "nodes_changed": N, "at": ...}       (duplicates folded, recorded)
    {"event": "prune", "deleted": [uids], "at": ...}                    (one per committed prune chunk)
    {"event": "enriched", "linked": {...}, "classified": {...}, "at": ...}
    {"event": "done", "at": ..., "ok": true}

A batch entry is written right after its Neo4j transaction commits. A kill between the commit
and the entry leaves one committed batch unrecorded; resuming re-applies it, which changes
nothing (upserts merge on uid and skip unchanged content). A torn last line is ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

JOURNAL = "journal.jsonl"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def run_key(path: Path, source: str, settings: dict[str, Any]) -> str:
    """What makes two runs 'the same ingest': the resolved path, the source name and the options."""
    payload = json.dumps({"path": str(path.resolve()), "source": source, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


@dataclass
class Journal:
    """An open run journal: append entries durably, read back what was committed."""

    path: Path
    entries: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def open(cls, run_dir: Path) -> Journal:
        """The journal in `run_dir`, with the entries already in it (a torn last line dropped)."""
        run_dir.mkdir(parents=True, exist_ok=True)
        journal = cls(run_dir / JOURNAL)
        journal.entries = read_entries(journal.path)
        _drop_torn_tail(journal.path)
        return journal

    def append(self, event: str, **fields: Any) -> None:
        """Write one entry and fsync it: once this returns, the entry survives a kill or power loss."""
        entry = {"event": event, **fields, "at": _now()}
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self.entries.append(entry)

    @property
    def key(self) -> str | None:
        start = next((e for e in self.entries if e.get("event") == "start"), None)
        return start.get("key") if start else None

    @property
    def finished(self) -> bool:
        return any(e.get("event") == "done" for e in self.entries)

    def committed(self) -> dict[int, str]:
        """Batch index -> digest of every batch recorded as committed."""
        return {int(e["index"]): str(e["digest"]) for e in self.entries if e.get("event") == "batch"}


def read_entries(path: Path) -> list[dict[str, Any]]:
    """A journal's entries; a line cut short by a kill (not valid JSON) is skipped with a warning."""
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            log.warning("%s line %d is torn (the run was killed while writing it); ignored", path, number)
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line a kill left without its newline, so the next entry starts on a line of its own."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)
            handle.flush()
            os.fsync(handle.fileno())


def find_unfinished(ingest_dir: Path, key: str) -> str | None:
    """The id of the newest run with this key that started and never finished, if any."""
    if not ingest_dir.is_dir():
        return None
    for run_dir in sorted((p for p in ingest_dir.iterdir() if p.is_dir()), reverse=True):
        path = run_dir / JOURNAL
        if not path.exists():
            continue
        entries = read_entries(path)
        start = next((e for e in entries if e.get("event") == "start"), None)
        if start and start.get("key") == key and not any(e.get("event") == "done" for e in entries):
            return run_dir.name
    return None


__all__ = ["JOURNAL", "Journal", "find_unfinished", "read_entries", "run_key"]
