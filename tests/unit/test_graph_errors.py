"""Driver errors become the domain's 503-class errors (outage, timeout) or stay what they are."""

from __future__ import annotations

from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable, SessionExpired

from kcrm.foundation.errors import GraphTimeout, GraphUnavailable
from kcrm.kg.connection import graph_error

URI = "bolt://127.0.0.1:1"


def _server_error(code: str) -> Neo4jError:
    return Neo4jError._hydrate_neo4j(code=code, message="server said so")


def test_a_transaction_past_its_timeout_is_a_graph_timeout() -> None:
    for code in ("Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
                 "Neo.ClientError.Transaction.TransactionTimedOut"):
        mapped = graph_error(_server_error(code), URI, 7.5)
        assert isinstance(mapped, GraphTimeout) and mapped.status == 503 and "7.5 s" in str(mapped)


def test_outages_are_unavailable_with_the_uri() -> None:
    for exc in (ServiceUnavailable("gone"), SessionExpired("expired"), OSError("refused"),
                _server_error("Neo.TransientError.General.DatabaseUnavailable")):
        mapped = graph_error(exc, URI, 30)
        assert type(mapped) is GraphUnavailable and URI in str(mapped), exc
    assert "credentials" in str(graph_error(AuthError("no"), URI, 30))


def test_a_wrong_query_is_not_disguised_as_an_outage() -> None:
    assert graph_error(_server_error("Neo.ClientError.Statement.SyntaxError"), URI, 30) is None
