"""Load a directory of record files (the sample company, or any data in the same form).

Every `*.jsonl` file is read and validated against the ontology; valid records are loaded,
invalid ones are reported with file, line, field and reason and never reach the graph.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kcrm.ingest.records import Problem, Record, read_jsonl
from kcrm.ingest.taxonomy_records import TAXONOMY_SOURCE, taxonomy_records
from kcrm.ingest.validate import validate_record
from kcrm.kg.loader import GraphLoader, LoadReport
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


def load_directory(directory: Path, loader: GraphLoader, source: str | None = None) -> LoadReport:
    """Load the taxonomy and then the directory's records; rejected records are in the report."""
    report = LoadReport()
    loader.load(taxonomy_records(), source=TAXONOMY_SOURCE, report=report)
    records, problems = read_directory(directory, loader.ontology)
    report.rejected.extend(problems)
    loader.load(records, source=source or directory.name, report=report)
    return report
