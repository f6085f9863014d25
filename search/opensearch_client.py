"""The OpenSearch connection: one client from the settings, and errors that name the URL.

Why a module of its own: the CLI, the backend and the readiness check all need the same client
(credentials, timeouts, no retries that would hide a dead cluster for minutes) and the same
translation of "cannot connect" into `SearchBackendUnavailable` (HTTP 503 with Retry-After),
so that nobody sees a urllib3 stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import ConnectionTimeout, TransportError

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import SearchBackendUnavailable

log = logging.getLogger(__name__)
# opensearch-py logs every failed request as a warning with its whole traceback; the error kcrm
# raises already says what failed and where, so only the library's errors are kept.
logging.getLogger("opensearch").setLevel(logging.ERROR)

T = TypeVar("T")


def make_client(settings: Settings, url: str | None = None) -> OpenSearch:
    """A client for `url` (default: OPENSEARCH_URL or the bundled cluster's first node).

    The bundled cluster lists all its nodes, so the client fails over when one dies (the
    node-kill test); retries go to the next node on a connection error or timeout.
    """
    hosts: list[str] = [url] if url else [settings.opensearch_endpoint]
    if not url and settings.local_opensearch:
        hosts = [f"http://127.0.0.1:{settings.opensearch_http_port + i}" for i in range(settings.opensearch_nodes)]
    auth = (settings.opensearch_user, settings.opensearch_password or "") if settings.opensearch_user else None
    return OpenSearch(hosts=hosts, http_auth=auth, timeout=settings.opensearch_timeout_s, max_retries=len(hosts),
                      retry_on_timeout=True, http_compress=False)


def describe_url(settings: Settings) -> str:
    """The URL to name in errors (never the credentials)."""
    return settings.opensearch_endpoint


def guarded(settings: Settings, call: Callable[[], T]) -> T:
    """Run one request; an unreachable or failing cluster becomes `SearchBackendUnavailable`."""
    try:
        return call()
    except (OpenSearchConnectionError, ConnectionTimeout) as exc:
        reason = "timed out" if isinstance(exc, ConnectionTimeout) else "connection failed"
        raise SearchBackendUnavailable(f"OpenSearch is not reachable at {describe_url(settings)} ({reason}); "
                                       "start it with `kcrm opensearch start` or fix OPENSEARCH_URL") from exc
    except TransportError as exc:
        if isinstance(exc.status_code, int) and exc.status_code >= 500:
            raise SearchBackendUnavailable(f"OpenSearch at {describe_url(settings)} failed: "
                                           f"{exc.status_code} {exc.error}") from exc
        raise


def cluster_health_of(settings: Settings, client: OpenSearch | None = None) -> dict[str, Any]:
    """`_cluster/health` of the configured cluster; raises `SearchBackendUnavailable` naming the URL."""
    client = client or make_client(settings)
    health: dict[str, Any] = guarded(settings, lambda: client.cluster.health())
    return health
