"""Load a directory of record files (the sample company, or any data in the same form).

Every `*.jsonl` file is read and validated against the ontology; valid records are loaded,
invalid ones are reported with file, line, field and reason and never reach the graph. Loading
goes through the same whole, journaled batches as `kcrm ingest` (`kcrm.ingest.batches`): one
write path. The journal lives in DATA_DIR/ingest/<run id>/; a `kcrm load` of the same directory
killed mid-run is resumed from it, skipping the batches it had committed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kcrm.ingest.batches import BatchWriter, plan_batches
from kcrm.ingest.journal import Journal, find_unfinished, run_key
from kcrm.ingest.taxonomy_records import TAXONOMY_SOURCE, taxonomy_records
from kcrm.ingest.validate import validate_record
from kcrm.kg.connection import Graph
from kcrm.kg.loader import LoadReport
from kcrm.kg.records import Problem, Record, read_jsonl
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)


def read_directory(directory: Path, ontology: Ontology) -> tuple[list[Record], list[Problem]]:
    """Read and validate every JSON Lines file in `directory` (sorted by name)."""
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no *.jsonl record files in {directory}")
    records: list[Record] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for path in files:
        for item in read_jsonl(path):
            if isinstance(item, Problem):
                problems.append(item)
                continue
            record, found = validate_record(ontology, item)
            key = (item.type, item.uid)
            if record is not None and key in seen:
                found = [Problem(item.source, item.line, item.uid, "uid", f"duplicate uid, first at {seen[key]}")]
                record = None
            problems.extend(found)
            if record is not None:
                seen[key] = f"{item.source}:{item.line}"
                records.append(record)
    return records, problems


def write_records(graph: Graph, ontology: Ontology, records: list[Record], source: str, report: LoadReport,
                  batch_size: int = 500, journal: Journal | None = None, progress: bool = False) -> int:
    """Write validated records in whole batches (nodes with their edges, one transaction each); returns batches skipped."""
    batches = plan_batches(ontology, records, [], batch_size)
    if journal is not None:
        journal.append("plan", source=source, batches=len(batches), records=len(records), links=0)
    return BatchWriter(graph, ontology, source, journal).write_all(batches, report, progress=progress)


def load_directory(graph: Graph, ontology: Ontology, directory: Path, ingest_dir: Path, source: str | None = None,
                   batch_size: int = 500, progress: bool = False, run_id: str | None = None) -> LoadReport:
    """Load the taxonomy and then the directory's records, journaled; rejected records are in the report."""
    from kcrm.ingest.pipeline import new_run_id

    source = source or directory.name
    report = LoadReport()
    records, problems = read_directory(directory, ontology)
    report.rejected.extend(problems)
    key = run_key(directory, source, {"command": "load"})
    run_id = run_id or find_unfinished(ingest_dir, key) or f"load-{new_run_id()}"
    journal = Journal.open(ingest_dir / run_id)
    if journal.entries and not journal.finished:
        log.warning("resuming unfinished load %s: %d batches already committed", run_id, len(journal.committed()))
        journal.append("resume", pid=os.getpid())
    else:
        journal.append("start", key=key, path=str(directory.resolve()), source=source, pid=os.getpid())
    # the taxonomy is small and idempotent: rewritten (or found unchanged) on every load, outside the journal
    write_records(graph, ontology, taxonomy_records(), TAXONOMY_SOURCE, report, batch_size)
    skipped = write_records(graph, ontology, records, source, report, batch_size, journal, progress)
    journal.append("done", ok=not report.rejected, skipped_batches=skipped)
    return report
