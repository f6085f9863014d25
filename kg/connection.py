"""Connecting to Neo4j with errors a person can act on.

An unreachable server or a wrong password becomes `GraphUnavailable` naming the URI, never a
driver stack trace; every transaction runs with a timeout (KCRM_NEO4J_QUERY_TIMEOUT_S) and one
that runs past it becomes `GraphTimeout`; the driver retries a lost server for at most
KCRM_NEO4J_RETRY_S, so the API answers 503 quickly and recovers as soon as Neo4j is back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from neo4j import Driver, GraphDatabase, unit_of_work
from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConnectionAcquisitionTimeoutError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import GraphTimeout, GraphUnavailable

log = logging.getLogger(__name__)

UNAVAILABLE_ERRORS = (ServiceUnavailable, SessionExpired, OSError)
# Everything that means "the graph cannot answer now" rather than "this query is wrong".
GRAPH_ERRORS = (*UNAVAILABLE_ERRORS, AuthError, TransientError, ConnectionAcquisitionTimeoutError, ClientError)


def graph_error(exc: Exception, uri: str, timeout_s: float) -> GraphUnavailable | None:
    """The domain error for a driver error: 503-class for outages and timeouts; None for a query's own error."""
    code = getattr(exc, "code", None) or ""
    if "TransactionTimedOut" in code or "TransactionTimedOutClientConfiguration" in code:
        return GraphTimeout(f"a Neo4j transaction ran past {timeout_s:g} s (KCRM_NEO4J_QUERY_TIMEOUT_S) and was "
                            "cancelled")
    if isinstance(exc, AuthError):
        return GraphUnavailable(f"Neo4j at {uri} refused the credentials")
    if isinstance(exc, (*UNAVAILABLE_ERRORS, TransientError, ConnectionAcquisitionTimeoutError)):
        return GraphUnavailable(f"Neo4j is not reachable at {uri}: {exc}")
    return None


def connect(settings: Settings, verify: bool = True) -> Driver:
    """Open a driver to the configured Neo4j and check it answers (unless `verify` is False)."""
    uri = settings.bolt_uri
    driver = GraphDatabase.driver(
        uri,
        auth=(settings.neo4j_user, settings.neo4j_password),
        connection_timeout=settings.neo4j_connect_timeout_s,
        connection_acquisition_timeout=settings.neo4j_connect_timeout_s + settings.neo4j_query_timeout_s,
        max_transaction_retry_time=settings.neo4j_retry_s,
        max_connection_lifetime=3600,
        liveness_check_timeout=30.0,
    )
    if verify:
        try:
            driver.verify_connectivity()
        except AuthError as exc:
            driver.close()
            raise GraphUnavailable(f"Neo4j at {uri} refused the credentials for user {settings.neo4j_user!r}") from exc
        except UNAVAILABLE_ERRORS as exc:
            driver.close()
            hint = " (start the local server with `kcrm neo4j start`)" if settings.local_neo4j else ""
            raise GraphUnavailable(f"Neo4j is not reachable at {uri}{hint}: {exc}") from exc
    log.debug("connected to neo4j at %s", uri)
    return driver


class Graph:
    """A thin wrapper that runs parameterised Cypher with a timeout and clear errors."""

    def __init__(self, driver: Driver, settings: Settings) -> None:
        self.driver = driver
        self.database = settings.neo4j_database
        self.timeout_s = settings.neo4j_query_timeout_s
        self.uri = settings.bolt_uri

    def _run(self, cypher: str, params: Mapping[str, Any], write: bool) -> list[dict[str, Any]]:
        @unit_of_work(timeout=self.timeout_s)
        def work(tx: Any) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(cypher, dict(params))]

        try:
            with self.driver.session(database=self.database) as session:
                runner = session.execute_write if write else session.execute_read
                return runner(work)
        except GRAPH_ERRORS as exc:
            if (mapped := graph_error(exc, self.uri, self.timeout_s)) is None:
                raise
            raise mapped from exc

    def read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """Run a read query; `cypher` must be a constant, values go in `params`."""
        return self._run(cypher, params, write=False)

    def write(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """Run a write query in one transaction (retried by the driver on transient errors)."""
        return self._run(cypher, params, write=True)

    def write_all(self, statements: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Run several write statements in one transaction: all of them happen, or none (a merge,
        an erasure). Same timeout and error mapping as `write`."""
        @unit_of_work(timeout=self.timeout_s)
        def work(tx: Any) -> None:
            for cypher, params in statements:
                tx.run(cypher, dict(params)).consume()

        try:
            with self.driver.session(database=self.database) as session:
                session.execute_write(work)
        except GRAPH_ERRORS as exc:
            if (mapped := graph_error(exc, self.uri, self.timeout_s)) is None:
                raise
            raise mapped from exc

    def ping(self) -> bool:
        """True when the server answers a trivial query now (no driver retries: /readyz must answer fast).

        Tried twice, because the first use of a pooled connection to a restarted server fails once.
        """
        for _ in range(2):
            try:
                with self.driver.session(database=self.database) as session:
                    session.run("RETURN 1 AS ok", timeout=min(self.timeout_s, 5.0)).consume()
                return True
            except (*GRAPH_ERRORS, GraphUnavailable):
                continue
        return False

    def __enter__(self) -> Graph:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.driver.close()
