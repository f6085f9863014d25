"""The audit log: who searched for what, who read which customer, who changed what.

Every authenticated API request is recorded after it is answered (action, target, the
parameters, the status), and so are the CLI's key changes. Entries are nodes in the service
state of the shared Neo4j (see kcrm/statedb.py), numbered from one sequence for every process,
and only ever appended. The API writes them in batches through `kcrm.security.audit_writer.AuditWriter`,
so a request does not wait for its own entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kcrm.foundation.config import Settings
from kcrm.kg.connection import Graph
from kcrm.security.access import Principal
from kcrm.statedb import AUDIT, SERVICE_LABEL, next_ids, state_graph

MAX_DETAIL_CHARS = 4000

APPEND = f"""
UNWIND $rows AS row
CREATE (a:{SERVICE_LABEL}:{AUDIT})
SET a = row
"""
QUERY = f"""
MATCH (a:{AUDIT})
WHERE ($principal IS NULL OR a.key_id = $principal OR a.principal = $principal)
  AND ($action IS NULL OR a.action STARTS WITH $action)
  AND ($since IS NULL OR a.at >= $since)
  AND ($target IS NULL OR a.target = $target)
RETURN a{{.*}} AS a ORDER BY a.id DESC LIMIT $limit
"""
COUNT = f"""
MATCH (a:{AUDIT}) WHERE ($action IS NULL OR a.action STARTS WITH $action) AND ($key_id IS NULL OR a.key_id = $key_id)
RETURN count(a) AS n
"""


@dataclass(frozen=True)
class AuditEntry:
    """One thing a principal did."""

    id: int
    at: str
    key_id: str
    principal: str
    action: str
    target: str | None
    method: str | None
    path: str | None
    status: int | None
    detail: dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def entry_row(principal: Principal, action: str, target: str | None = None, detail: dict[str, Any] | None = None,
              method: str | None = None, path: str | None = None, status: int | None = None) -> dict[str, Any]:
    """One entry as stored, stamped now (detail is cut to a bounded size so a huge query cannot bloat the log)."""
    text = json.dumps(detail or {}, ensure_ascii=False, default=str)
    if len(text) > MAX_DETAIL_CHARS:
        text = json.dumps({"truncated": text[:MAX_DETAIL_CHARS]}, ensure_ascii=False)
    return {"at": _now(), "key_id": principal.key_id, "principal": principal.name, "action": action,
            "target": target, "method": method, "path": path, "status": status, "detail": text}


class AuditLog:
    """Append to and query the audit entries in the shared state store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def graph(self) -> Graph:
        return state_graph(self.settings)

    def record(self, principal: Principal, action: str, target: str | None = None,
               detail: dict[str, Any] | None = None, method: str | None = None, path: str | None = None,
               status: int | None = None) -> None:
        """Append one entry now (the CLI's way; the API batches through AuditWriter)."""
        self.append([entry_row(principal, action, target, detail, method, path, status)])

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Append prepared entries (`entry_row`) in one transaction, numbered in order."""
        if not rows:
            return
        first = next_ids(self.graph, "audit", len(rows))
        self.graph.write(APPEND, rows=[dict(row, id=first + i) for i, row in enumerate(rows)])

    def query(self, principal: str | None = None, action: str | None = None, since: str | None = None,
              target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first; `principal` matches a key id or a key name, `action` a prefix (e.g. 'customer.')."""
        rows = self.graph.read(QUERY, principal=principal or None, action=action or None, since=since or None,
                               target=target or None, limit=limit)
        return [AuditEntry(id=r["a"]["id"], at=r["a"]["at"], key_id=r["a"]["key_id"], principal=r["a"]["principal"],
                           action=r["a"]["action"], target=r["a"].get("target"), method=r["a"].get("method"),
                           path=r["a"].get("path"), status=r["a"].get("status"), detail=json.loads(r["a"]["detail"]))
                for r in rows]

    def count(self, action: str | None = None, key_id: str | None = None) -> int:
        """How many entries there are (of actions starting with `action`, by one key): the benchmark's loss check."""
        return int(self.graph.read(COUNT, action=action or None, key_id=key_id or None)[0]["n"])
