"""Keep the OpenSearch index in step with the graph: full rebuilds and incremental catch-up.

The same two operations as the local backend (`service.build_search_index`,
`incremental.update_search_index`), with the same item source (`from_graph`) and the same
change detection (each item's `updatedAt` against the graph's, `plan_changes`): a rebuild
writes a new generation behind the alias; an update replaces only what changed in the live one
and records the graph's new watermark in the index's `_meta`.
"""

from __future__ import annotations

import logging
import time

from tqdm import tqdm

from kcrm.foundation.config import Settings
from kcrm.kg.connection import Graph
from kcrm.search.embedder import make_embedder
from kcrm.search.from_graph import graph_watermark, item_versions, searchable_items
from kcrm.search.incremental import IndexUpdate, index_lock, plan_changes
from kcrm.search.opensearch_backend import OpenSearchBackend
from kcrm.search.opensearch_client import guarded

log = logging.getLogger(__name__)


def reindex_opensearch(settings: Settings, graph: Graph, progress: bool = False) -> str:
    """Embed every searchable item into a new generation, switch the alias; returns the generation."""
    with index_lock(settings):
        watermark = graph_watermark(graph)
        items = list(searchable_items(graph))
        backend = OpenSearchBackend(settings, make_embedder(settings))
        try:
            name = backend.rebuild(tqdm(items, unit="item", desc="opensearch", disable=not progress))
            _set_watermark(backend, name, watermark)
        finally:
            backend.close()
    log.info("indexed %d items into OpenSearch generation %s", len(items), name)
    return name


def update_opensearch_index(settings: Settings, graph: Graph) -> IndexUpdate | None:
    """Apply the graph's changes since the live generation's watermark; None when none is live."""
    backend = OpenSearchBackend(settings, make_embedder(settings))
    try:
        live = backend.index.current_index()
        if live is None:
            log.info("no OpenSearch index behind %s: skipping the incremental update", backend.index.alias)
            return None
        started = time.perf_counter()
        with index_lock(settings):
            watermark = graph_watermark(graph)
            if backend.index.meta().get("watermark") == watermark:
                return IndexUpdate(0, 0, 0, 0, None, time.perf_counter() - started, "hnsw")
            indexed = {r.uid: str(r.meta.get("updatedAt") or "") for r in backend.index.scan_items(None)}
            new, changed, removed = plan_changes(indexed, item_versions(graph))
            backend.remove(changed | removed)
            items = list(searchable_items(graph, new | changed))
            chunks = backend.add(items)
            _set_watermark(backend, live, watermark)
        update = IndexUpdate(len(new), len(changed), len(removed), chunks, None,
                             round(time.perf_counter() - started, 3), "hnsw")
        log.info("OpenSearch index updated in place: %s", update.as_dict())
        return update
    finally:
        backend.close()


def _set_watermark(backend: OpenSearchBackend, index: str, watermark: str) -> None:
    meta = {**backend.index.meta(), "watermark": watermark}
    guarded(backend.settings, lambda: backend.index.client.indices.put_mapping(index=index, body={"_meta": meta}))
