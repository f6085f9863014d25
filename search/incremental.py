"""Bring the published search indexes up to date with the graph without rebuilding them.

After an ingest commits (or prunes), only the items whose `updatedAt` changed, the new ones and
the deleted ones need work: their old records leave both indexes, the changed and new ones are
read from the graph, chunked, embedded and added, and both indexes are published together as
the next generation (`generation.publish`). Nothing else is re-embedded. The graph's watermark
is read before the items, so a change racing the update leaves the index marked stale (and the
next update picks it up), never silently missing.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kcrm.foundation.config import Settings
from kcrm.kg.connection import Graph
from kcrm.search import generation
from kcrm.search.embedder import Embedder, make_embedder
from kcrm.search.from_graph import graph_watermark, item_versions, searchable_items
from kcrm.search.local_backend import lexical_records
from kcrm.search.semantic import add_items
from kcrm.search.vector_index import index_kind_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexUpdate:
    """What one incremental update did (counts of items) and the generation it published."""

    added: int
    updated: int
    removed: int
    chunks_added: int
    generation: int | None
    seconds: float
    kind: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def index_lock(settings: Settings) -> Iterator[None]:
    """One writer of the published indexes at a time, across processes (reindex, ingest, server jobs)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / ".index.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def plan_changes(indexed: dict[str, str], current: dict[str, str]) -> tuple[set[str], set[str], set[str]]:
    """(new, changed, removed) uids, comparing the index's item versions with the graph's."""
    new = current.keys() - indexed.keys()
    removed = indexed.keys() - current.keys()
    changed = {uid for uid in current.keys() & indexed.keys() if current[uid] != indexed[uid]}
    return set(new), changed, set(removed)


def update_search_index(settings: Settings, graph: Graph, embedder: Embedder | None = None) -> IndexUpdate | None:
    """Apply the graph's changes since the published generation to both indexes and publish them.

    Returns None when no index is published yet (`kcrm reindex` builds the first one).
    """
    directory: Path = settings.index_dir
    if generation.generation_id(directory) is None:
        log.info("no search index published at %s: skipping the incremental update", directory)
        return None
    started = time.perf_counter()
    with index_lock(settings):
        watermark = graph_watermark(graph)
        published = generation.read_generation(directory)
        if published.get("watermark") == watermark:  # no searchable node added, changed or deleted
            return IndexUpdate(0, 0, 0, 0, int(published.get("generation", 0)), time.perf_counter() - started,
                               str(published.get("dense", {}).get("kind", "")))
        embedder = embedder or make_embedder(settings)
        dense, lexical, _ = generation.load(directory, embedder)
        indexed = {record.uid: str(record.meta.get("updatedAt") or "") for record in lexical.records()}
        # with no item to change, the next generation still records the graph's new watermark
        new, changed, removed = plan_changes(indexed, item_versions(graph))
        stale = changed | removed
        items = list(searchable_items(graph, new | changed))
        lexical.remove(stale)
        dense.remove(stale)
        lexical.add(list(lexical_records(items)))
        chunks = add_items(dense, items, embedder)
        kind = index_kind_for(dense.count(), settings.search_exact_limit)
        if kind != dense.kind:
            log.info("the dense index now holds %d chunks: converting it from %s to %s", dense.count(), dense.kind, kind)
            dense = dense.rebuilt(kind)
        written = generation.publish(directory, dense, lexical, watermark, details={
            "update": {"added": len(new), "updated": len(changed), "removed": len(removed)}})
    update = IndexUpdate(len(new), len(changed), len(removed), chunks, int(written["generation"]),
                         round(time.perf_counter() - started, 3), dense.kind)
    log.info("search index updated in place: %s", update.as_dict())
    return update
