"""`--prune`: delete a source's nodes whose records are gone from the files that were read completely.

A file with a problem that names no uid (a row that could not be parsed) is left alone: its
missing record may be the broken row, not a deletion. Rejected records keep their old node.
Deletes go in chunks of `CHUNK`, each its own transaction, and each chunk is journaled (the
uids it deleted) as it commits, so a run killed mid-prune shows how far it got; the re-run
deletes the rest (deleting is idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from kcrm.ingest.report import FileOutcome
from kcrm.kg.connection import Graph
from kcrm.kg.records import Problem
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)

CHUNK = 10000
PRUNE = """
MATCH (n) WHERE n.source = $source AND split(n.sourceRecord, ':')[0] IN $files
  AND NOT n.uid IN $keep AND any(label IN labels(n) WHERE label IN $labels)
WITH n, n.uid AS uid, labels(n)[0] AS label LIMIT 10000
DETACH DELETE n
RETURN uid, label
"""


def prunable_files(outcomes: dict[str, FileOutcome], rejected: list[Problem], broken: Iterable[str]) -> list[str]:
    """The files whose absent records may be taken as deleted: read, whole, and without unparseable rows."""
    unsafe = {p.source for p in rejected if not p.uid or p.line == 0} | set(broken)
    return sorted(rel for rel, outcome in outcomes.items()
                  if not outcome.skipped and rel not in unsafe and ":" not in rel)


def prune(graph: Graph, ontology: Ontology, source: str, files: list[str], keep: Iterable[str],
          on_chunk: Callable[[list[str]], None] | None = None) -> int:
    """Delete the source's nodes from `files` whose uid is not in `keep`; returns how many went.

    `on_chunk` gets the uids of each committed chunk (the run journals them)."""
    deleted = 0
    keep_list, labels = sorted(set(keep)), sorted(ontology.classes)
    while files:
        gone = graph.write(PRUNE, source=source, files=files, keep=keep_list, labels=labels)
        deleted += len(gone)
        if on_chunk is not None and gone:
            on_chunk([row["uid"] for row in gone])
        for row in gone:
            log.info("pruned %s %s: no longer in %s", row["label"], row["uid"], source)
        if len(gone) < CHUNK:
            break
    return deleted


__all__ = ["PRUNE", "prunable_files", "prune"]
