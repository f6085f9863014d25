"""Connecting to Neo4j with errors a person can act on.

An unreachable server or a wrong password becomes `GraphUnavailable` naming the URI, never a
driver stack trace; every transaction runs with a timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from neo4j import Driver, GraphDatabase, unit_of_work
from neo4j.exceptions import AuthError, ServiceUnavailable, SessionExpired

from kcrm.config import Settings
from kcrm.errors import GraphUnavailable

log = logging.getLogger(__name__)

UNAVAILABLE_ERRORS = (ServiceUnavailable, SessionExpired, OSError)


def connect(settings: Settings, verify: bool = True) -> Driver:
    """Open a driver to the configured Neo4j and check it answers (unless `verify` is False)."""
    uri = settings.bolt_uri
    driver = GraphDatabase.driver(
        uri,
        auth=(settings.neo4j_user, settings.neo4j_password),
        connection_timeout=5.0,
        max_connection_lifetime=3600,
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
        except AuthError as exc:
            raise GraphUnavailable(f"Neo4j at {self.uri} refused the credentials") from exc
        except UNAVAILABLE_ERRORS as exc:
            raise GraphUnavailable(f"Neo4j is not reachable at {self.uri}: {exc}") from exc

    def read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """Run a read query; `cypher` must be a constant, values go in `params`."""
        return self._run(cypher, params, write=False)

    def write(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """Run a write query in one transaction (retried by the driver on transient errors)."""
        return self._run(cypher, params, write=True)

    def ping(self) -> bool:
        """True when the server answers a trivial query now."""
        try:
            self.read("RETURN 1 AS ok")
            return True
        except GraphUnavailable:
            return False

    def close(self) -> None:
        self.driver.close()
