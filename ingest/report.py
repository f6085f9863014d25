"""What an ingest run writes down: the report (accepted, rejected, why) and the quarantine.

The quarantine holds the rejected raw records themselves, one JSON line per record with every
problem found in it, so that nothing offered to kcrm is lost: fix the lines and ingest the
quarantine file again. A file rejected as a whole is copied next to it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcrm.kg.loader import LoadReport
from kcrm.kg.records import Problem


@dataclass
class FileOutcome:
    """One file's part in a run."""

    source: str
    format: str | None
    mapping: str | None
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped: str | None = None
    sources: list[int] | None = None  # which mapping sources (from 1) applied, when more than one did

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class IngestResult:
    """The outcome of one run; `ok` is False when anything was rejected."""

    run_id: str
    source: str
    dry_run: bool = False
    files: list[FileOutcome] = field(default_factory=list)
    records: int = 0
    links: int = 0
    rejected: list[Problem] = field(default_factory=list)
    load: LoadReport | None = None
    deleted: int = 0
    run_dir: Path | None = None
    report_path: Path | None = None
    quarantine_path: Path | None = None
    resumed: dict[str, Any] | None = None
    index_stale: bool | None = None
    index_update: dict[str, Any] | None = None  # what the incremental search-index update did
    enriched: dict[str, Any] | None = None
    merged: list[dict[str, Any]] = field(default_factory=list)
    unmatched_sources: list[str] = field(default_factory=list)  # mapping sources no file matched
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # rows of one uid that disagreed (ingest.fold)
    folded: int = 0  # rows whose entity repeated one seen earlier in the run
    possible: list[dict[str, Any]] = field(default_factory=list)  # for a person to decide (kcrm duplicates)

    @property
    def ok(self) -> bool:
        return not self.rejected

    @property
    def rejected_records(self) -> int:
        """Distinct records (or files) rejected; one record can have several problems."""
        return len({(p.source, p.line) for p in self.rejected})

    def summary(self) -> dict[str, Any]:
        """Counts without the per-record details (for the CLI and the job status)."""
        load = self.load.as_dict() if self.load else {}
        load.pop("rejected", None)
        return {
            "run_id": self.run_id, "source": self.source, "dry_run": self.dry_run,
            "files": len([f for f in self.files if not f.skipped]),
            "skipped_files": len([f for f in self.files if f.skipped]),
            "skipped": [{"source": f.source, "reason": f.skipped} for f in self.files if f.skipped][:200],
            **({"unmatched_files": [f.source for f in self.files if f.skipped]}
               if any(f.skipped for f in self.files) else {}),
            **({"unmatched_sources": self.unmatched_sources} if self.unmatched_sources else {}),
            "accepted": {"records": self.records, "links": self.links},
            "rejected": {"records": self.rejected_records, "problems": len(self.rejected)},
            "deleted": self.deleted, "graph": load,
            **({"resumed": self.resumed} if self.resumed is not None else {}),
            **({"index_stale": self.index_stale} if self.index_stale is not None else {}),
            **({"index_update": self.index_update} if self.index_update is not None else {}),
            **({"enriched": self.enriched} if self.enriched is not None else {}),
            **({"merged": len(self.merged)} if self.merged else {}),
            **({"folded": self.folded} if self.folded else {}),
            **({"conflicts": len(self.conflicts)} if self.conflicts else {}),
            **({"possible_duplicates": len(self.possible)} if self.possible else {}),
            "report": str(self.report_path) if self.report_path else None,
            "quarantine": str(self.quarantine_path) if self.quarantine_path else None,
        }


def problem_dict(problem: Problem) -> dict[str, Any]:
    """A problem as the report shows it: `record` counts from 1 in its source; 0 is the file itself."""
    out: dict[str, Any] = {"source": problem.source, "record": problem.line}
    if problem.locator:
        out["locator"] = problem.locator
    out.update({"uid": problem.uid, "field": problem.field, "reason": problem.reason})
    return out


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def write_run(result: IngestResult, run_dir: Path, raw_rows: dict[tuple[str, int], Any],
              files: dict[str, Path]) -> None:
    """Write report.json and quarantine.jsonl into `run_dir`, with a copy of each file in `files`.

    `files` are those that could not be read to the end: their unread part is only in the copy.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    by_record: dict[tuple[str, int], list[Problem]] = defaultdict(list)
    for problem in result.rejected:
        by_record[(problem.source, problem.line)].append(problem)
    lines = []
    for (source, record), problems in sorted(by_record.items()):
        entry: dict[str, Any] = {"source": source, "record": record,
                                 "locator": next((p.locator for p in problems if p.locator), ""),
                                 "problems": [{"field": p.field, "reason": p.reason, "uid": p.uid} for p in problems]}
        raw = raw_rows.get((source, record))
        if raw is not None:
            entry["raw"] = raw
        elif source in files:
            copy = run_dir / "files" / source
            if not copy.exists():
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(files[source], copy)
            entry["file"] = str(copy)
        lines.append(json.dumps(entry, ensure_ascii=False, default=str))
    result.run_dir = run_dir
    result.quarantine_path = run_dir / "quarantine.jsonl"
    result.report_path = run_dir / "report.json"
    _atomic_write(result.quarantine_path, "".join(line + "\n" for line in lines))
    report = {**result.summary(), "files": [f.as_dict() for f in result.files],
              "rejected": [problem_dict(p) for p in result.rejected], "merges": result.merged,
              "conflicts": result.conflicts, "possible_duplicates": result.possible}
    _atomic_write(result.report_path, json.dumps(report, ensure_ascii=False, indent=2, default=str))
