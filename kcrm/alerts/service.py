"""The alerts pieces wired to the settings: the store, the retry policy, and the CLI's steps."""

from __future__ import annotations

import logging

from kcrm.alerts.notify import notify_mined_warnings
from kcrm.alerts.store import AlertStore
from kcrm.alerts.targets import AllowList
from kcrm.alerts.webhook import RetryPolicy, drain
from kcrm.foundation.config import Settings
from kcrm.kg.connection import Graph

log = logging.getLogger(__name__)


def alert_store(settings: Settings) -> AlertStore:
    """The alerts of the configured Neo4j (shared by every process that reaches it)."""
    return AlertStore(settings)


def retry_policy(settings: Settings) -> RetryPolicy:
    """Webhook attempts, backoff and timeout from the settings."""
    return RetryPolicy(attempts=settings.alerts_webhook_attempts, backoff_s=settings.alerts_webhook_backoff_s,
                       timeout_s=settings.alerts_webhook_timeout_s, deadline_s=settings.alerts_webhook_deadline_s,
                       max_response_bytes=settings.alerts_webhook_max_response_kb * 1024,
                       allow=AllowList.parse(settings.alerts_webhook_allow_hosts))


def after_mining(settings: Settings, graph: Graph) -> int:
    """Notify subscribers of warnings a mining run raised; returns how many notifications were made."""
    if not settings.alerts_enabled:
        return 0
    return len(notify_mined_warnings(alert_store(settings), graph))


def drain_webhooks(settings: Settings) -> int:
    """Deliver queued webhooks until none is pending or `alerts_drain_s` has passed (CLI runs)."""
    if not settings.alerts_enabled or settings.alerts_drain_s <= 0:
        return 0
    store = alert_store(settings)
    if not store.pending_count():
        return 0
    delivered = drain(store, retry_policy(settings), settings.alerts_drain_s)
    left = store.pending_count()
    if left:
        log.warning("%d webhook deliveries still pending; the API's dispatcher (or `kcrm alerts deliver`) retries them",
                    left)
    return delivered
