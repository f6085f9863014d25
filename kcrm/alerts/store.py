"""Subscriptions, notifications and webhook deliveries in one SQLite file in the data dir.

Alerts are the service's own state about its users, not customer knowledge, so they live beside
the graph rather than in it: DATA_DIR/alerts/alerts.sqlite3 (WAL mode, so the API, a CLI ingest
and `kcrm mine` can write at once). A notification is unique per (subscription, kind, item,
key), so replaying an ingest or re-running mining never notifies twice; a delivery is claimed
atomically before it is sent, so two processes never send the same one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, owner_name TEXT NOT NULL, groups TEXT,
  kind TEXT NOT NULL, query TEXT, filters TEXT NOT NULL DEFAULT '{}', entity TEXT,
  webhook_url TEXT, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS subscriptions_owner ON subscriptions(owner);
CREATE TABLE IF NOT EXISTS notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT, subscription_id TEXT NOT NULL, owner TEXT NOT NULL,
  kind TEXT NOT NULL, item_uid TEXT NOT NULL, item_type TEXT NOT NULL, title TEXT NOT NULL,
  summary TEXT NOT NULL, groups TEXT NOT NULL DEFAULT '[]', key TEXT NOT NULL, created_at TEXT NOT NULL,
  UNIQUE (subscription_id, kind, item_uid, key));
CREATE INDEX IF NOT EXISTS notifications_owner ON notifications(owner, id);
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, notification_id INTEGER NOT NULL UNIQUE, url TEXT NOT NULL,
  status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL,
  claimed_until TEXT, last_error TEXT, delivered_at TEXT);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(status, next_attempt_at);
CREATE TABLE IF NOT EXISTS delivery_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, delivery_id INTEGER NOT NULL, attempt INTEGER NOT NULL,
  at TEXT NOT NULL, status_code INTEGER, error TEXT, duration_ms REAL NOT NULL);
CREATE TABLE IF NOT EXISTS warning_state (
  customer TEXT NOT NULL, kind TEXT NOT NULL, active INTEGER NOT NULL, reason TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (customer, kind));
"""


def now_iso(moment: datetime | None = None) -> str:
    """UTC ISO time, the one format every timestamp here uses (so strings compare as times)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class Subscription:
    """A saved search (`query` with `filters`), an entity watch, or a watch on mined warnings."""

    id: str
    owner: str
    owner_name: str
    groups: list[str] | None
    kind: str  # "query", "entity" or "warnings"
    query: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    entity: str | None = None
    webhook_url: str | None = None
    created_at: str = ""


@dataclass
class Notification:
    """Something a subscription caught: a new item, or a warning mining raised about a customer."""

    subscription_id: str
    owner: str
    kind: str  # "new_item", "churn_warning" or "deviation"
    item_uid: str
    item_type: str
    title: str
    summary: str
    groups: list[str]
    key: str = ""
    id: int | None = None
    created_at: str = ""


def _subscription(row: sqlite3.Row) -> Subscription:
    return Subscription(id=row["id"], owner=row["owner"], owner_name=row["owner_name"],
                        groups=json.loads(row["groups"]) if row["groups"] is not None else None, kind=row["kind"],
                        query=row["query"], filters=json.loads(row["filters"]), entity=row["entity"],
                        webhook_url=row["webhook_url"], created_at=row["created_at"])


class AlertStore:
    """The alerts database of one data dir; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.executescript(SCHEMA)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> AlertStore:
        """The store under DATA_DIR/alerts."""
        return cls(Path(data_dir) / "alerts" / "alerts.sqlite3")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=30000")
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # -- subscriptions ---------------------------------------------------------------------------

    def add_subscription(self, sub: Subscription) -> Subscription:
        """Store a new subscription (its id and creation time are set here)."""
        sub.id = sub.id or f"sub-{uuid.uuid4().hex[:12]}"
        sub.created_at = now_iso()
        with self._transaction() as db:
            db.execute("INSERT INTO subscriptions VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (sub.id, sub.owner, sub.owner_name, json.dumps(sub.groups) if sub.groups is not None else None,
                        sub.kind, sub.query, json.dumps(sub.filters, sort_keys=True), sub.entity, sub.webhook_url,
                        sub.created_at))
        return sub

    def subscriptions(self, owner: str | None = None, kind: str | None = None) -> list[Subscription]:
        """Subscriptions of one owner (or everyone's), optionally of one kind, oldest first."""
        sql, args = "SELECT * FROM subscriptions WHERE 1=1", []
        if owner is not None:
            sql, args = sql + " AND owner = ?", [*args, owner]
        if kind is not None:
            sql, args = sql + " AND kind = ?", [*args, kind]
        with self._connect() as db:
            return [_subscription(r) for r in db.execute(sql + " ORDER BY created_at, id", args)]

    def subscription(self, sub_id: str, owner: str) -> Subscription | None:
        """The owner's subscription `sub_id` (None if absent or someone else's: the same answer)."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM subscriptions WHERE id = ? AND owner = ?", (sub_id, owner)).fetchone()
        return _subscription(row) if row else None

    def delete_subscription(self, sub_id: str, owner: str) -> bool:
        """Remove the owner's subscription and its notifications; False if it had none such."""
        with self._transaction() as db:
            gone = db.execute("DELETE FROM subscriptions WHERE id = ? AND owner = ?", (sub_id, owner)).rowcount
            if gone:
                ids = [r[0] for r in db.execute("SELECT id FROM notifications WHERE subscription_id = ?", (sub_id,))]
                db.executemany("DELETE FROM delivery_attempts WHERE delivery_id IN "
                               "(SELECT id FROM deliveries WHERE notification_id = ?)", [(i,) for i in ids])
                db.executemany("DELETE FROM deliveries WHERE notification_id = ?", [(i,) for i in ids])
                db.execute("DELETE FROM notifications WHERE subscription_id = ?", (sub_id,))
        return bool(gone)

    # -- notifications ---------------------------------------------------------------------------

    def notify(self, notes: list[Notification], webhooks: dict[str, str]) -> list[Notification]:
        """Store notifications (each at most once) and queue a delivery for those whose subscription
        has a webhook (`webhooks`: subscription id -> url); returns the ones that were new."""
        added = []
        stamp = now_iso()
        with self._transaction() as db:
            for note in notes:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO notifications (subscription_id, owner, kind, item_uid, item_type, title, "
                    "summary, groups, key, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (note.subscription_id, note.owner, note.kind, note.item_uid, note.item_type, note.title,
                     note.summary, json.dumps(sorted(note.groups)), note.key, stamp))
                if not cursor.rowcount:
                    continue
                note.id, note.created_at = cursor.lastrowid, stamp
                added.append(note)
                url = webhooks.get(note.subscription_id)
                if url:
                    db.execute("INSERT INTO deliveries (notification_id, url, status, next_attempt_at) "
                               "VALUES (?, ?, 'pending', ?)", (note.id, url, stamp))
        return added

    def notifications(self, owner: str, after_id: int = 0, limit: int = 50,
                      subscription_id: str | None = None) -> list[dict[str, Any]]:
        """The owner's notifications newest first (ids above `after_id`), with their delivery state."""
        sql = ("SELECT n.*, d.status AS delivery_status, d.attempts AS delivery_attempts, d.url AS delivery_url "
               "FROM notifications n LEFT JOIN deliveries d ON d.notification_id = n.id "
               "WHERE n.owner = ? AND n.id > ?")
        args: list[Any] = [owner, after_id]
        if subscription_id is not None:
            sql, args = sql + " AND n.subscription_id = ?", [*args, subscription_id]
        with self._connect() as db:
            rows = db.execute(sql + " ORDER BY n.id DESC LIMIT ?", [*args, limit]).fetchall()
        out = []
        for row in rows:
            item = dict(row)
            item["groups"] = json.loads(item["groups"])
            out.append(item)
        return out

    # -- deliveries ------------------------------------------------------------------------------

    def claim_due(self, lease_s: float, limit: int = 20) -> list[dict[str, Any]]:
        """Pending deliveries whose time has come, claimed for `lease_s` (so no one else sends them)."""
        now = datetime.now(UTC)
        with self._transaction() as db:
            rows = db.execute(
                "SELECT d.*, n.subscription_id, n.kind, n.item_uid, n.item_type, n.title, n.summary, n.groups, "
                "n.created_at AS notified_at FROM deliveries d JOIN notifications n ON n.id = d.notification_id "
                "WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND (d.claimed_until IS NULL "
                "OR d.claimed_until <= ?) ORDER BY d.next_attempt_at LIMIT ?",
                (now_iso(now), now_iso(now), limit)).fetchall()
            until = now_iso(now + timedelta(seconds=lease_s))
            db.executemany("UPDATE deliveries SET claimed_until = ? WHERE id = ?", [(until, r["id"]) for r in rows])
        return [dict(r) for r in rows]

    def record_attempt(self, delivery_id: int, attempt: int, status_code: int | None, error: str | None,
                       duration_ms: float, delivered: bool, retry_at: datetime | None) -> None:
        """Log one attempt; mark the delivery delivered, due again at `retry_at`, or failed (no retry)."""
        stamp = now_iso()
        with self._transaction() as db:
            db.execute("INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms) "
                       "VALUES (?,?,?,?,?,?)", (delivery_id, attempt, stamp, status_code, error, duration_ms))
            if delivered:
                db.execute("UPDATE deliveries SET status = 'delivered', attempts = ?, delivered_at = ?, "
                           "claimed_until = NULL, last_error = NULL WHERE id = ?", (attempt, stamp, delivery_id))
            elif retry_at is not None:
                db.execute("UPDATE deliveries SET attempts = ?, next_attempt_at = ?, claimed_until = NULL, "
                           "last_error = ? WHERE id = ?", (attempt, now_iso(retry_at), error, delivery_id))
            else:
                db.execute("UPDATE deliveries SET status = 'failed', attempts = ?, claimed_until = NULL, "
                           "last_error = ? WHERE id = ?", (attempt, error, delivery_id))

    def erase_subject(self, uids: list[str], strings: list[str], dry_run: bool = False) -> dict[str, int]:
        """Forget an erased customer: notifications about its items or quoting its data, their deliveries,
        subscriptions watching it and its warning state; then vacuum, so no deleted page keeps the text.

        Returns counts per table (what would go, with `dry_run`).
        """
        uid_list = json.dumps(sorted(set(uids)))
        match = ("(item_uid IN (SELECT value FROM json_each(?))"
                 + "".join(" OR instr(title, ?) > 0 OR instr(summary, ?) > 0" for _ in strings) + ")")
        params: list[Any] = [uid_list] + [s for text in strings for s in (text, text)]
        notes = f"SELECT id FROM notifications WHERE {match}"
        counts: dict[str, int] = {}
        with self._transaction() as db:
            counts["notifications"] = db.execute(f"SELECT count(*) FROM ({notes})", params).fetchone()[0]
            counts["deliveries"] = db.execute(
                f"SELECT count(*) FROM deliveries WHERE notification_id IN ({notes})", params).fetchone()[0]
            counts["subscriptions"] = db.execute(
                "SELECT count(*) FROM subscriptions WHERE entity IN (SELECT value FROM json_each(?))",
                (uid_list,)).fetchone()[0]
            counts["warning_state"] = db.execute(
                "SELECT count(*) FROM warning_state WHERE customer IN (SELECT value FROM json_each(?))",
                (uid_list,)).fetchone()[0]
            if not dry_run:
                db.execute("DELETE FROM delivery_attempts WHERE delivery_id IN "
                           f"(SELECT id FROM deliveries WHERE notification_id IN ({notes}))", params)
                db.execute(f"DELETE FROM deliveries WHERE notification_id IN ({notes})", params)
                db.execute(f"DELETE FROM notifications WHERE id IN ({notes})", params)
                db.execute("DELETE FROM subscriptions WHERE entity IN (SELECT value FROM json_each(?))", (uid_list,))
                db.execute("DELETE FROM warning_state WHERE customer IN (SELECT value FROM json_each(?))",
                           (uid_list,))
        if not dry_run:
            with self._lock, self._connect() as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                db.execute("VACUUM")
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return counts

    def pending_count(self) -> int:
        """Deliveries not yet delivered nor given up."""
        with self._connect() as db:
            return int(db.execute("SELECT count(*) FROM deliveries WHERE status = 'pending'").fetchone()[0])

    def delivery_log(self, subscription_id: str, owner: str) -> list[dict[str, Any]]:
        """Every delivery of the owner's subscription with each of its attempts, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT d.*, n.item_uid, n.kind FROM deliveries d JOIN notifications n ON n.id = d.notification_id "
                "WHERE n.subscription_id = ? AND n.owner = ? ORDER BY d.id", (subscription_id, owner)).fetchall()
            out = []
            for row in rows:
                item = dict(row)
                item.pop("claimed_until", None)
                item["attempt_log"] = [dict(a) for a in db.execute(
                    "SELECT attempt, at, status_code, error, duration_ms FROM delivery_attempts "
                    "WHERE delivery_id = ? ORDER BY attempt", (row["id"],))]
                out.append(item)
        return out

    # -- mined warnings --------------------------------------------------------------------------

    def raised_warnings(self, current: dict[tuple[str, str], str]) -> list[tuple[str, str, str]]:
        """Record which (customer, kind) warnings are active now; return the ones newly raised.

        `current` maps each active warning to its reason; a warning active before stays quiet, one
        that went away is marked inactive (and notifies again if it comes back).
        """
        stamp = now_iso()
        with self._transaction() as db:
            before = {(r["customer"], r["kind"]) for r in db.execute("SELECT * FROM warning_state WHERE active = 1")}
            raised = [(c, k, reason) for (c, k), reason in sorted(current.items()) if (c, k) not in before]
            db.execute("UPDATE warning_state SET active = 0, updated_at = ? WHERE active = 1", (stamp,))
            db.executemany("INSERT INTO warning_state (customer, kind, active, reason, updated_at) VALUES (?,?,1,?,?) "
                           "ON CONFLICT (customer, kind) DO UPDATE SET active = 1, reason = excluded.reason, "
                           "updated_at = excluded.updated_at",
                           [(c, k, reason, stamp) for (c, k), reason in current.items()])
        return raised
