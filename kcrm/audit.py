"""The audit log: who searched for what, who read which customer, who changed what.

Every authenticated API request is recorded after it is answered (action, target, the
parameters, the status), and so are the CLI's key changes. Entries live in the security
database beside the keys (see kcrm/securitydb.py) and are only ever appended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kcrm.access import Principal
from kcrm.securitydb import connect_db

MAX_DETAIL_CHARS = 4000


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


class AuditLog:
    """Append to and query the audit table of the security database at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, principal: Principal, action: str, target: str | None = None,
               detail: dict[str, Any] | None = None, method: str | None = None, path: str | None = None,
               status: int | None = None) -> None:
        """Append one entry (detail is cut to a bounded size so a huge query cannot bloat the log)."""
        text = json.dumps(detail or {}, ensure_ascii=False, default=str)
        if len(text) > MAX_DETAIL_CHARS:
            text = json.dumps({"truncated": text[:MAX_DETAIL_CHARS]}, ensure_ascii=False)
        with connect_db(self.path) as conn:
            conn.execute("INSERT INTO audit (at, key_id, principal, action, target, method, path, status, detail) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (_now(), principal.key_id, principal.name, action, target, method, path, status, text))

    def query(self, principal: str | None = None, action: str | None = None, since: str | None = None,
              target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first; `principal` matches a key id or a key name, `action` a prefix (e.g. 'customer.')."""
        clauses, params = [], []  # type: list[str], list[Any]
        if principal:
            clauses.append("(key_id = ? OR principal = ?)")
            params += [principal, principal]
        if action:
            clauses.append("action LIKE ? ESCAPE '\\'")
            params.append(action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        if since:
            clauses.append("at >= ?")
            params.append(since)
        if target:
            clauses.append("target = ?")
            params.append(target)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with connect_db(self.path) as conn:
            rows = conn.execute(f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        return [AuditEntry(id=r["id"], at=r["at"], key_id=r["key_id"], principal=r["principal"], action=r["action"],
                           target=r["target"], method=r["method"], path=r["path"], status=r["status"],
                           detail=json.loads(r["detail"])) for r in rows]
