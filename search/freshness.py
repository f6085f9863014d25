"""Is the published search index stale? Compare its watermark with the graph's, now.

The indexes are published atomically with the graph's watermark (newest `updatedAt` and count
of searchable nodes) at build time. An ingest that adds, changes or deletes a case, document,
policy or rule moves the graph's watermark, so the index is stale until `kcrm reindex`. Deciding
this from the graph itself, not from a marker file an ingest writes, leaves no window: a run
killed after committing a batch has already moved the watermark.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from kcrm.foundation.config import Settings
from kcrm.kg.connection import Graph
from kcrm.search.from_graph import graph_watermark

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Freshness:
    """The published index's watermark beside the graph's; `stale` when they differ."""

    index_watermark: str | None
    graph_watermark: str

    @property
    def stale(self) -> bool:
        return self.index_watermark is not None and self.index_watermark != self.graph_watermark

    def describe(self) -> str:
        if self.index_watermark is None:
            return "no index published"
        if self.stale:
            return (f"stale: the graph changed since the index was built (index {self.index_watermark}, "
                    f"graph {self.graph_watermark}); run `kcrm reindex`")
        return "current with the graph"


def published_watermark(index_dir: Path) -> str | None:
    """The watermark in a published index's manifest, or None when there is none to read."""
    try:
        manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    mark = manifest.get("watermark") if isinstance(manifest, dict) else None
    return str(mark) if mark is not None else None


def index_freshness(settings: Settings, graph: Graph) -> Freshness:
    """Whether the index on disk covers the graph as it is now (one small aggregate query)."""
    return Freshness(published_watermark(settings.index_dir), graph_watermark(graph))


__all__ = ["Freshness", "index_freshness", "published_watermark"]
