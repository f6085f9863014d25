"""An ingest run from start to finish: its id, its journal, resume, the after-load step, the report.

`ingest_path` is the entry point (`kcrm ingest`, `POST /v1/ingest` and the tests call it through
`kcrm.workflows.ingest`); the reading and loading itself is `kcrm.ingest.run.IngestRun`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kcrm.foundation.errors import IngestError
from kcrm.ingest.discovery import discover
from kcrm.ingest.journal import Journal, find_unfinished, run_key
from kcrm.ingest.report import IngestResult
from kcrm.ingest.run import IngestOptions, IngestRun, ProgressHook
from kcrm.kg.connection import Graph
from kcrm.kg.records import Record
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)


def new_run_id() -> str:
    """A sortable, unique-enough id for a run: UTC time to the microsecond."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def run_key_for(path: Path, options: IngestOptions) -> str:
    """The journal key of an ingest: same path, source and options means the same run."""
    return run_key(path, options.source or path.name, {"fmt": options.fmt, "mapping": str(options.mapping or ""),
                                                      "encoding": options.encoding, "prune": options.prune})


def unfinished_run(path: Path, options: IngestOptions, ingest_dir: Path) -> str | None:
    """The id of an earlier run of this same ingest that was killed before it finished, if any."""
    return None if options.dry_run else find_unfinished(ingest_dir, run_key_for(path, options))


AfterLoad = Callable[[list[Record]], dict[str, Any]]


def ingest_path(path: Path, ontology: Ontology, graph: Graph | None, options: IngestOptions, run_dir: Path,
                run_id: str | None = None, on_progress: ProgressHook | None = None,
                after_load: AfterLoad | None = None,
                on_commit: Callable[[list[str], str], None] | None = None) -> IngestResult:
    """Ingest a file or directory; the report, quarantine and journal are written to `run_dir`.

    When `run_dir` already holds an unfinished journal the run resumes it: batches committed
    with the same content are skipped, the rest written (see `kcrm.ingest.journal`).
    `after_load` (entity linking, classification) runs on the accepted records once every batch
    has committed and before the journal says `done`, so a run killed during it redoes it on resume.
    """
    run = IngestRun(path, ontology, graph, options, run_id or new_run_id(), on_progress)
    run.on_commit = on_commit  # told (uids, write time) after each committed batch: alerts on new items
    if not options.dry_run:
        run.journal = Journal.open(run_dir)
        if run.journal.entries and not run.journal.finished:
            run.result.resumed = {"committed_batches": len(run.journal.committed())}
            run.journal.append("resume", pid=os.getpid())
            log.warning("resuming unfinished ingest run %s: %d batches already committed", run.result.run_id,
                        len(run.journal.committed()))
        else:
            run.journal.append("start", key=run_key_for(path, options), path=str(path.resolve()),
                               source=run.result.source, pid=os.getpid())
    try:
        run.execute()
        if after_load is not None and not options.dry_run and run.records:
            if on_progress:
                on_progress("enrich", len(run.records))
            run.result.enriched = after_load(run.records)
            if run.journal is not None:
                run.journal.append("enriched", **run.result.enriched)
    except IngestError as exc:  # the input is wrong: resuming would fail the same way
        if run.journal is not None:
            run.journal.append("done", ok=False, error=str(exc))
        raise
    finally:
        run.write(run_dir)
    if run.journal is not None:
        run.journal.append("done", ok=run.result.ok)
    log.info("ingest %s: %d records and %d links accepted, %d problems", run.result.source, run.result.records,
             run.result.links, len(run.result.rejected))
    return run.result


__all__ = ["AfterLoad", "IngestOptions", "IngestResult", "IngestRun", "ProgressHook", "discover", "ingest_path",
           "new_run_id", "run_key_for", "unfinished_run"]
