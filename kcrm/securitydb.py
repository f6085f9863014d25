"""The security database: one SQLite file in the data dir holding API keys and the audit log.

SQLite rather than Neo4j because the two must work when the graph does not: a caller whose key
is valid must get a 503 (not a 401) while Neo4j is down, and that request must still be audited.
SQLite rather than a JSON file because the CLI (`kcrm keys`, `kcrm audit`) and the server
write it at the same time: WAL mode gives one writer beside many readers across processes,
with transactions. Keeping it out of the graph also keeps credentials and who-read-what out of
the customer data that search, analytics and exports walk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    digest      TEXT NOT NULL,
    roles       TEXT NOT NULL,
    groups_     TEXT NOT NULL,
    all_groups  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    principal   TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT,
    method      TEXT,
    path        TEXT,
    status      INTEGER,
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS audit_principal ON audit (key_id, at);
CREATE INDEX IF NOT EXISTS audit_action ON audit (action, at);
"""

_ready: set[Path] = set()


@contextmanager
def connect_db(path: Path) -> Iterator[sqlite3.Connection]:
    """A short-lived connection (one per operation: safe across threads and processes), committed on exit."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        if path not in _ready:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            _ready.add(path)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()
