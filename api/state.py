"""What the running service holds: settings, the graph connection and the loaded index."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import AlertsDisabled, IndexNotReady, KcrmError
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
    _seen: tuple[int, int] | None = field(default=None, repr=False)
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _retry_at: float = field(default=0.0, repr=False)

    def require_alerts(self) -> Any:
        """The alerts store; AlertsDisabled (503) when alerts are switched off."""
        if self.alerts is None:
            raise AlertsDisabled("alerts are switched off (KCRM_ALERTS_ENABLED=false)")
        return self.alerts

    def require_search(self) -> HybridSearch:
        search = self.current_search()
        if search is None:
            raise IndexNotReady(self.index_error or "the search index is not loaded")
        return search

    def current_search(self) -> HybridSearch | None:
        """The loaded search, re-opened first when a newer generation was published (an ingest's
        incremental update or a reindex, by this process or another): one stat per call."""
        stamp = manifest_stamp(self.settings.index_dir)
        if stamp is not None and stamp != self._seen:
            self.reload(stamp)
        elif self.search is None and time.monotonic() >= self._retry_at:
            # nothing new was published, but a search engine that was unreachable (the opensearch
            # backend's cluster) may be back: try again, at most once per Retry-After interval
            self._retry_at = time.monotonic() + self.settings.api_retry_after_s
            self.reload(stamp, force=True)
        return self.search

    def reload(self, stamp: tuple[int, int] | None = None, force: bool = False) -> None:
        """Open the published indexes; requests keep the old ones until the new ones are loaded."""
        if not self._reload_lock.acquire(blocking=self.search is None):
            return  # another request is loading it; this one answers from the current generation
        try:
            stamp = stamp or manifest_stamp(self.settings.index_dir)
            if not force and stamp is not None and stamp == self._seen:
                return
            try:
                self.search = load_search_service(self.settings)
                self.index_error = None
            except KcrmError as exc:
                self.index_error = str(exc)
                log.warning("search index not loaded: %s", exc)
            self._seen = stamp
        finally:
            self._reload_lock.release()


def manifest_stamp(index_dir: Path) -> tuple[int, int] | None:
    """(inode, mtime) of the published generation's manifest: changes with every publication."""
    try:
        info = os.stat(index_dir / "manifest.json")
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns


def build_state(settings: Settings) -> ServiceState:
    """Open the driver (without insisting the server is up) and load the index from disk."""
    graph = Graph(connect(settings, verify=False), settings)
    state = ServiceState(settings=settings, graph=graph)
    state.reload()
    if settings.alerts_enabled:
        from kcrm.alerts.service import alert_store, retry_policy
        from kcrm.alerts.webhook import Dispatcher

        state.alerts = alert_store(settings)
        state.alert_dispatcher = Dispatcher(state.alerts, retry_policy(settings), settings.alerts_poll_s).start()
    return state
