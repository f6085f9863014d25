"""The service's own state (keys, audit, alerts, ingest jobs, possible duplicates) in the Neo4j that holds the graph.

Every API process, CLI run and node of a cluster reaches the same Neo4j, so state kept there is
shared without another database to run (issue 17); per-process SQLite files could not be.
These nodes are not customer knowledge: each carries `SERVICE_LABEL` beside its own label, none
of their labels is an ontology class, and none has the `uid`, `updatedAt` or `source` properties
that search, mining, analytics, freshness watermarks and pruning select on, so no graph query
of the customer model ever sees them. Test fixtures that wipe "the graph" skip this label.

Concurrency: Neo4j's read-committed transactions can lose a read-modify-write, so every
claim or counter here first takes the node's write lock (`SET n._lock = true`) and reads after
it (the pattern Neo4j's manual gives for lost updates).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from neo4j.exceptions import ClientError

from kcrm.foundation.config import Settings
from kcrm.kg.connection import Graph, connect

log = logging.getLogger(__name__)

SERVICE_LABEL = "KcrmService"
KEY, AUDIT, JOB, SEQUENCE = "KcrmApiKey", "KcrmAuditEntry", "KcrmIngestJob", "KcrmSequence"
SUBSCRIPTION, NOTIFICATION, DELIVERY, WARNING = ("KcrmSubscription", "KcrmNotification", "KcrmDelivery",
                                                 "KcrmWarningState")
DUPLICATE = "KcrmPossibleDuplicate"
STATE_LABELS = (KEY, AUDIT, JOB, SEQUENCE, SUBSCRIPTION, NOTIFICATION, DELIVERY, WARNING, DUPLICATE)

SCHEMA = (
    f"CREATE CONSTRAINT kcrm_key_id IF NOT EXISTS FOR (n:{KEY}) REQUIRE n.key_id IS UNIQUE",
    f"CREATE CONSTRAINT kcrm_audit_id IF NOT EXISTS FOR (n:{AUDIT}) REQUIRE n.id IS UNIQUE",
    f"CREATE INDEX kcrm_audit_at IF NOT EXISTS FOR (n:{AUDIT}) ON (n.at)",
    f"CREATE CONSTRAINT kcrm_job_id IF NOT EXISTS FOR (n:{JOB}) REQUIRE n.job_id IS UNIQUE",
    f"CREATE INDEX kcrm_job_status IF NOT EXISTS FOR (n:{JOB}) ON (n.status)",
    f"CREATE CONSTRAINT kcrm_sequence IF NOT EXISTS FOR (n:{SEQUENCE}) REQUIRE n.name IS UNIQUE",
    f"CREATE CONSTRAINT kcrm_subscription IF NOT EXISTS FOR (n:{SUBSCRIPTION}) REQUIRE n.id IS UNIQUE",
    f"CREATE INDEX kcrm_subscription_owner IF NOT EXISTS FOR (n:{SUBSCRIPTION}) ON (n.owner)",
    f"CREATE CONSTRAINT kcrm_notification IF NOT EXISTS FOR (n:{NOTIFICATION}) REQUIRE n.id IS UNIQUE",
    f"CREATE CONSTRAINT kcrm_notification_once IF NOT EXISTS FOR (n:{NOTIFICATION}) REQUIRE n.dedup IS UNIQUE",
    f"CREATE INDEX kcrm_notification_owner IF NOT EXISTS FOR (n:{NOTIFICATION}) ON (n.owner)",
    f"CREATE CONSTRAINT kcrm_delivery IF NOT EXISTS FOR (n:{DELIVERY}) REQUIRE n.id IS UNIQUE",
    f"CREATE CONSTRAINT kcrm_delivery_once IF NOT EXISTS FOR (n:{DELIVERY}) REQUIRE n.notification_id IS UNIQUE",
    f"CREATE INDEX kcrm_delivery_status IF NOT EXISTS FOR (n:{DELIVERY}) ON (n.status)",
    f"CREATE CONSTRAINT kcrm_warning IF NOT EXISTS FOR (n:{WARNING}) REQUIRE n.name IS UNIQUE",
    f"CREATE CONSTRAINT kcrm_duplicate_id IF NOT EXISTS FOR (n:{DUPLICATE}) REQUIRE n.id IS UNIQUE",
    f"CREATE INDEX kcrm_duplicate_status IF NOT EXISTS FOR (n:{DUPLICATE}) ON (n.status)",
)

NEXT_IDS = f"""
MERGE (s:{SERVICE_LABEL}:{SEQUENCE} {{name: $name}})
SET s._lock = true
WITH s, coalesce(s.value, 0) AS last
SET s.value = last + $count
REMOVE s._lock
RETURN last + 1 AS first
"""

WIPE_STATE = f"MATCH (n:{SERVICE_LABEL}) CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 5000 ROWS"

_lock = threading.Lock()
_graphs: dict[tuple[str, str, str], Graph] = {}
_schema_ready: set[tuple[str, str, str]] = set()
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _key(settings: Settings) -> tuple[str, str, str]:
    return settings.bolt_uri, settings.neo4j_database, settings.neo4j_user


def state_graph(settings: Settings) -> Graph:
    """The process's connection for service state (one driver per Neo4j, shared by every store)."""
    key = _key(settings)
    with _lock:
        graph = _graphs.get(key)
        if graph is None:
            graph = _graphs[key] = Graph(connect(settings, verify=False), settings)
    if key not in _schema_ready:
        ensure_schema(graph)
        _schema_ready.add(key)
    return graph


def ensure_schema(graph: Graph) -> None:
    """The constraints and indexes of the state labels (idempotent; each in its own transaction).

    Two processes starting together may race to create the same rule: the loser's error says it
    already exists, which is the outcome wanted.
    """
    for statement in SCHEMA:
        try:
            graph.write(statement)
        except ClientError as exc:
            if "AlreadyExists" not in (exc.code or ""):
                raise
            log.debug("schema rule already made by another process: %s", exc.code)


def next_ids(graph: Graph, name: str, count: int = 1) -> int:
    """Reserve `count` consecutive ids of sequence `name` for every process at once; the first of them."""
    return int(graph.write(NEXT_IDS, name=name, count=count)[0]["first"])


def process_id() -> str:
    """This process's name in leases (host, pid and a random suffix: a restarted pid is someone else)."""
    return PROCESS_ID


def close_all() -> None:
    """Close every state connection this process opened (tests, and shutdown)."""
    with _lock:
        graphs = list(_graphs.values())
        _graphs.clear()
        _schema_ready.clear()
    for graph in graphs:
        graph.close()
