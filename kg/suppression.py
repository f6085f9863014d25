"""The suppression list: source keys of erased records, so a re-ingest does not bring a subject back.

An erased customer's record (and its orders' and cases') may still sit in the source files that
are ingested again tomorrow. Each erased or pseudonymised node leaves a key here, a SHA-256 of
its class and uid (no name, no e-mail: the list itself holds no personal data), and the batch
writer drops records whose key is listed, counting them as `suppressed` in the load report.
The keys live in Neo4j beside the graph (service state, outside the ontology's classes), so a
graph backup carries them and every process sees the same list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from kcrm.kg.connection import Graph

ADD = """
UNWIND $keys AS key
MERGE (s:KcrmSuppression {key: key})
ON CREATE SET s.at = $now
"""
LISTED = """
UNWIND $keys AS key
MATCH (s:KcrmSuppression {key: key})
RETURN s.key AS key
"""
CONSTRAINT = "CREATE CONSTRAINT kcrm_suppression_key IF NOT EXISTS FOR (s:KcrmSuppression) REQUIRE s.key IS UNIQUE"


def suppression_key(label: str, uid: str) -> str:
    """The key of one record: a hash of its class and uid."""
    return hashlib.sha256(f"{label}\x1f{uid}".encode()).hexdigest()


def ensure_schema(graph: Graph) -> None:
    """The list's uniqueness constraint (idempotent; also declares the label, so reads do not warn)."""
    graph.write(CONSTRAINT)


def suppress(graph: Graph, records: Iterable[tuple[str, str]], now: str) -> int:
    """Add (label, uid) pairs to the list; returns how many keys were given."""
    keys = sorted({suppression_key(label, uid) for label, uid in records})
    ensure_schema(graph)
    graph.write(ADD, keys=keys, now=now)
    return len(keys)


def suppressed(graph: Graph, records: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (label, uid) pairs among `records` that the list holds."""
    by_key = {suppression_key(label, uid): (label, uid) for label, uid in records}
    if not by_key:
        return set()
    return {by_key[row["key"]] for row in graph.read(LISTED, keys=sorted(by_key))}


REMOVE = """
UNWIND $keys AS key
MATCH (s:KcrmSuppression {key: key})
DELETE s
"""


def unsuppress(graph: Graph, records: Iterable[tuple[str, str]]) -> None:
    """Take (label, uid) pairs off the list (a customer who returns and consents to be known again)."""
    graph.write(REMOVE, keys=sorted({suppression_key(label, uid) for label, uid in records}))
