"""What the running service holds: settings, the graph connection and the loaded index."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from kcrm.config import Settings
from kcrm.errors import AlertsDisabled, IndexNotReady, KcrmError
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
    alerts: Any = None  # kcrm.alerts.store.AlertStore, with a webhook Dispatcher in `alert_dispatcher`
    alert_dispatcher: Any = None

    def require_alerts(self) -> Any:
        """The alerts store; AlertsDisabled (503) when alerts are switched off."""
        if self.alerts is None:
            raise AlertsDisabled("alerts are switched off (KCRM_ALERTS_ENABLED=false)")
        return self.alerts

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
    if settings.alerts_enabled:
        from kcrm.alerts.service import alert_store, retry_policy
        from kcrm.alerts.webhook import Dispatcher

        state.alerts = alert_store(settings)
        state.alert_dispatcher = Dispatcher(state.alerts, retry_policy(settings), settings.alerts_poll_s).start()
    return state
