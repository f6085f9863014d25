"""Build the search index from the graph, and open it for serving.

The index is derived data: `build_search_index` reads every searchable item from Neo4j and
publishes a new index atomically; `load_search_service` opens the published one.
"""

from __future__ import annotations

from pathlib import Path

from kcrm.config import Settings
from kcrm.kg.connection import Graph
from kcrm.search.embedder import make_embedder
from kcrm.search.from_graph import graph_watermark, searchable_items
from kcrm.search.semantic import SemanticSearch


def build_search_index(settings: Settings, graph: Graph, progress: bool = False) -> Path:
    """Embed the graph's cases, documents, policies and rules; swap the new index in."""
    watermark = graph_watermark(graph)
    index = SemanticSearch.build(list(searchable_items(graph)), make_embedder(settings), progress=progress)
    return index.save(settings.index_dir, watermark=watermark)


def load_search_service(settings: Settings) -> SemanticSearch:
    """The published index with the embedder it was built with; `IndexNotReady` if absent."""
    return SemanticSearch.load(settings.index_dir, make_embedder(settings))
