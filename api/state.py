"""What the running service holds: settings, the graph connection and the loaded index."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kcrm.config import Settings
from kcrm.errors import IndexNotReady, KcrmError
from kcrm.kg.connection import Graph, connect
from kcrm.search.hybrid import HybridSearch
from kcrm.search.service import load_search_service

log = logging.getLogger(__name__)


@dataclass
class ServiceState:
    """Built once at start-up; a missing index or graph is reported by /readyz, not fatal."""

    settings: Settings
    graph: Graph
    search: HybridSearch | None = None
    index_error: str | None = field(default=None)

    def require_search(self) -> HybridSearch:
        if self.search is None:
            raise IndexNotReady(self.index_error or "the search index is not loaded")
        return self.search


def build_state(settings: Settings) -> ServiceState:
    """Open the driver (without insisting the server is up) and load the index from disk."""
    graph = Graph(connect(settings, verify=False), settings)
    state = ServiceState(settings=settings, graph=graph)
    try:
        state.search = load_search_service(settings)
    except KcrmError as exc:
        state.index_error = str(exc)
        log.warning("search index not loaded: %s", exc)
    return state
