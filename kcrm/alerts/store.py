"""Subscriptions, notifications and webhook deliveries in the service state of the shared Neo4j.

Alerts are the service's own state about its users, not customer knowledge: they are kept under
their own labels beside the graph (see kcrm/statedb.py), so every API process, `kcrm ingest` and
`kcrm mine` share one set. A notification is unique per (subscription, kind, item, key) (a
uniqueness constraint, so replaying an ingest or re-running mining never notifies twice, even from
two processes at once); a delivery is claimed under a lease before it is sent, so two processes
never send the same one, and a process that dies mid-send leaves it to another once the lease ends.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kcrm.foundation.config import Settings
from kcrm.kg.connection import Graph
from kcrm.statedb import DELIVERY, NOTIFICATION, SERVICE_LABEL, SUBSCRIPTION, WARNING, next_ids, process_id, state_graph

MAX_ID = 2**63 - 1

ADD_SUBSCRIPTION = f"CREATE (s:{SERVICE_LABEL}:{SUBSCRIPTION}) SET s = $props"
SUBSCRIPTIONS = f"""
MATCH (s:{SUBSCRIPTION}) WHERE ($owner IS NULL OR s.owner = $owner) AND ($kind IS NULL OR s.kind = $kind)
RETURN s{{.*}} AS s ORDER BY s.created_at, s.id
"""
DELETE_SUBSCRIPTION = f"""
MATCH (s:{SUBSCRIPTION} {{id: $id, owner: $owner}})
OPTIONAL MATCH (n:{NOTIFICATION} {{subscription_id: $id}})
OPTIONAL MATCH (d:{DELIVERY}) WHERE d.notification_id = n.id
DETACH DELETE d, n, s
RETURN count(DISTINCT s) AS gone
"""
NOTIFY = f"""
UNWIND $rows AS row
MERGE (n:{SERVICE_LABEL}:{NOTIFICATION} {{dedup: row.dedup}})
ON CREATE SET n += row.props, n.id = row.id, n.created_at = $stamp, n._new = true
WITH n, row WHERE n._new
REMOVE n._new
FOREACH (url IN CASE WHEN row.url IS NULL THEN [] ELSE [row.url] END |
  CREATE (:{SERVICE_LABEL}:{DELIVERY} {{id: row.id, notification_id: row.id, url: url, status: 'pending',
          attempts: 0, next_attempt_at: $stamp, attempt_log: []}}))
RETURN row.index AS index, n.id AS id
"""
NOTIFICATIONS = f"""
MATCH (n:{NOTIFICATION}) WHERE n.owner = $owner AND n.id > $after AND ($sub IS NULL OR n.subscription_id = $sub)
WITH n ORDER BY n.id DESC LIMIT $limit
OPTIONAL MATCH (d:{DELIVERY} {{notification_id: n.id}})
RETURN n{{.id, .subscription_id, .owner, .kind, .item_uid, .item_type, .title, .summary, .groups, .key,
         .created_at, delivery_status: d.status, delivery_attempts: d.attempts, delivery_url: d.url}} AS n
ORDER BY n.id DESC
"""
DUE = f"""
MATCH (d:{DELIVERY}) WHERE d.status = 'pending' AND d.next_attempt_at <= $now
  AND (d.claimed_until IS NULL OR d.claimed_until <= $now)
RETURN d.id AS id ORDER BY d.next_attempt_at LIMIT $limit
"""
CLAIM = f"""
UNWIND $ids AS id
MATCH (d:{DELIVERY} {{id: id}})
SET d._lock = true
WITH d, d.status = 'pending' AND d.next_attempt_at <= $now
        AND (d.claimed_until IS NULL OR d.claimed_until <= $now) AS free
REMOVE d._lock
WITH d WHERE free
SET d.claimed_until = $until, d.claimed_by = $me
WITH d
MATCH (n:{NOTIFICATION} {{id: d.notification_id}})
RETURN d{{.id, .notification_id, .url, .status, .attempts, .next_attempt_at, .last_error, .delivered_at,
         subscription_id: n.subscription_id, kind: n.kind, item_uid: n.item_uid, item_type: n.item_type,
         title: n.title, summary: n.summary, groups: n.groups, notified_at: n.created_at}} AS d
"""
RECORD = f"""
MATCH (d:{DELIVERY} {{id: $id}})
SET d.attempt_log = d.attempt_log + [$entry], d.attempts = $attempt, d.claimed_until = null, d.claimed_by = null,
    d.status = CASE WHEN $delivered THEN 'delivered' WHEN $retry_at IS NULL THEN 'failed' ELSE d.status END,
    d.delivered_at = CASE WHEN $delivered THEN $stamp ELSE d.delivered_at END,
    d.next_attempt_at = coalesce($retry_at, d.next_attempt_at),
    d.last_error = CASE WHEN $delivered THEN null ELSE $error END
"""
PENDING = f"MATCH (d:{DELIVERY} {{status: 'pending'}}) RETURN count(d) AS n"
DELIVERY_LOG = f"""
MATCH (n:{NOTIFICATION} {{subscription_id: $sub, owner: $owner}})
MATCH (d:{DELIVERY} {{notification_id: n.id}})
RETURN d{{.id, .notification_id, .url, .status, .attempts, .next_attempt_at, .last_error, .delivered_at,
         .attempt_log, item_uid: n.item_uid, kind: n.kind}} AS d ORDER BY d.id
"""
RAISE_WARNINGS = f"""
MERGE (w:{SERVICE_LABEL}:{WARNING} {{name: 'warnings'}})
SET w._lock = true
WITH w, coalesce(w.active, []) AS before
SET w.active = $current, w.updated_at = $stamp
REMOVE w._lock
RETURN before
"""


# Erasure (kcrm.privacy): a notification goes when it is about one of the erased items or quotes the
# customer's data in its title or summary; its delivery goes with it.
_ERASED_NOTE = ("n.item_uid IN $uids OR any(s IN $strings WHERE n.title CONTAINS s OR n.summary CONTAINS s)")
ERASE_COUNT = f"""
CALL () {{ MATCH (n:{NOTIFICATION}) WHERE {_ERASED_NOTE} RETURN count(n) AS notifications,
           collect(n.id) AS ids }}
CALL (ids) {{ MATCH (d:{DELIVERY}) WHERE d.notification_id IN ids RETURN count(d) AS deliveries }}
CALL () {{ MATCH (s:{SUBSCRIPTION}) WHERE s.entity IN $uids RETURN count(s) AS subscriptions }}
CALL () {{ OPTIONAL MATCH (w:{WARNING} {{name: 'warnings'}})
           RETURN size([x IN coalesce(w.active, []) WHERE any(u IN $uids WHERE x STARTS WITH '["' + u + '"')])
           AS warnings }}
RETURN notifications, deliveries, subscriptions, warnings
"""
ERASE_NOTIFICATIONS = f"""
MATCH (n:{NOTIFICATION}) WHERE {_ERASED_NOTE}
OPTIONAL MATCH (d:{DELIVERY} {{notification_id: n.id}})
DETACH DELETE d, n
"""
ERASE_SUBSCRIPTIONS = f"""
MATCH (s:{SUBSCRIPTION}) WHERE s.entity IN $uids
OPTIONAL MATCH (n:{NOTIFICATION} {{subscription_id: s.id}})
OPTIONAL MATCH (d:{DELIVERY}) WHERE d.notification_id = n.id
DETACH DELETE d, n, s
"""
ERASE_WARNINGS = f"""
MATCH (w:{WARNING} {{name: 'warnings'}})
SET w._lock = true
SET w.active = [x IN coalesce(w.active, []) WHERE NOT any(u IN $uids WHERE x STARTS WITH '["' + u + '"')]
REMOVE w._lock
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


def _subscription(row: dict[str, Any]) -> Subscription:
    groups = row.get("groups")
    return Subscription(id=row["id"], owner=row["owner"], owner_name=row["owner_name"],
                        groups=json.loads(groups) if groups is not None else None, kind=row["kind"],
                        query=row.get("query"), filters=json.loads(row.get("filters") or "{}"),
                        entity=row.get("entity"), webhook_url=row.get("webhook_url"), created_at=row["created_at"])


class AlertStore:
    """The alerts of every process that reaches this Neo4j; safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def graph(self) -> Graph:
        return state_graph(self.settings)

    # -- subscriptions ---------------------------------------------------------------------------

    def add_subscription(self, sub: Subscription) -> Subscription:
        """Store a new subscription (its id and creation time are set here)."""
        sub.id = sub.id or f"sub-{uuid.uuid4().hex[:12]}"
        sub.created_at = now_iso()
        props = {"id": sub.id, "owner": sub.owner, "owner_name": sub.owner_name,
                 "groups": json.dumps(sub.groups) if sub.groups is not None else None, "kind": sub.kind,
                 "query": sub.query, "filters": json.dumps(sub.filters, sort_keys=True), "entity": sub.entity,
                 "webhook_url": sub.webhook_url, "created_at": sub.created_at}
        self.graph.write(ADD_SUBSCRIPTION, props={k: v for k, v in props.items() if v is not None})
        return sub

    def subscriptions(self, owner: str | None = None, kind: str | None = None) -> list[Subscription]:
        """Subscriptions of one owner (or everyone's), optionally of one kind, oldest first."""
        return [_subscription(r["s"]) for r in self.graph.read(SUBSCRIPTIONS, owner=owner, kind=kind)]

    def subscription(self, sub_id: str, owner: str) -> Subscription | None:
        """The owner's subscription `sub_id` (None if absent or someone else's: the same answer)."""
        return next((s for s in self.subscriptions(owner=owner) if s.id == sub_id), None)

    def delete_subscription(self, sub_id: str, owner: str) -> bool:
        """Remove the owner's subscription, its notifications and deliveries; False if it had none such."""
        return bool(self.graph.write(DELETE_SUBSCRIPTION, id=sub_id, owner=owner)[0]["gone"])

    # -- notifications ---------------------------------------------------------------------------

    def notify(self, notes: list[Notification], webhooks: dict[str, str]) -> list[Notification]:
        """Store notifications (each at most once) and queue a delivery for those whose subscription
        has a webhook (`webhooks`: subscription id -> url); returns the ones that were new."""
        if not notes:
            return []
        stamp = now_iso()
        first = next_ids(self.graph, "notification", len(notes))
        rows = [{"index": i, "id": first + i, "url": webhooks.get(note.subscription_id),
                 "dedup": json.dumps([note.subscription_id, note.kind, note.item_uid, note.key]),
                 "props": {"subscription_id": note.subscription_id, "owner": note.owner, "kind": note.kind,
                           "item_uid": note.item_uid, "item_type": note.item_type, "title": note.title,
                           "summary": note.summary, "groups": sorted(note.groups), "key": note.key}}
                for i, note in enumerate(notes)]
        added = []
        for row in self.graph.write(NOTIFY, rows=rows, stamp=stamp):
            note = notes[row["index"]]
            note.id, note.created_at = row["id"], stamp
            added.append(note)
        return added

    def notifications(self, owner: str, after_id: int = 0, limit: int = 50,
                      subscription_id: str | None = None) -> list[dict[str, Any]]:
        """The owner's notifications newest first (ids above `after_id`), with their delivery state."""
        rows = self.graph.read(NOTIFICATIONS, owner=owner, after=max(0, min(int(after_id), MAX_ID)), limit=limit,
                               sub=subscription_id)
        return [dict(r["n"], groups=list(r["n"]["groups"] or [])) for r in rows]

    # -- deliveries ------------------------------------------------------------------------------

    def claim_due(self, lease_s: float, limit: int = 20) -> list[dict[str, Any]]:
        """Pending deliveries whose time has come, claimed for `lease_s` (so no other process sends them)."""
        now = datetime.now(UTC)
        ids = [r["id"] for r in self.graph.read(DUE, now=now_iso(now), limit=limit)]
        if not ids:
            return []
        rows = self.graph.write(CLAIM, ids=ids, now=now_iso(now), until=now_iso(now + timedelta(seconds=lease_s)),
                                me=process_id())
        return [dict(r["d"], groups=list(r["d"]["groups"] or [])) for r in rows]

    def record_attempt(self, delivery_id: int, attempt: int, status_code: int | None, error: str | None,
                       duration_ms: float, delivered: bool, retry_at: datetime | None) -> None:
        """Log one attempt; mark the delivery delivered, due again at `retry_at`, or failed (no retry)."""
        stamp = now_iso()
        entry = json.dumps({"attempt": attempt, "at": stamp, "status_code": status_code, "error": error,
                            "duration_ms": duration_ms})
        self.graph.write(RECORD, id=delivery_id, entry=entry, attempt=attempt, delivered=delivered, stamp=stamp,
                         retry_at=now_iso(retry_at) if retry_at is not None and not delivered else None, error=error)

    def erase_subject(self, uids: list[str], strings: list[str], dry_run: bool = False) -> dict[str, int]:
        """Forget an erased customer: notifications about its items or quoting its data, their deliveries,
        subscriptions watching it and its active warnings (issue 22).

        Returns counts per kind of state (what would go, with `dry_run`). Neo4j reuses the freed
        store space; a backup and restore (`kcrm backup`) leaves no deleted bytes behind.
        """
        params = {"uids": sorted(set(uids)), "strings": [s for s in strings if s]}
        row = self.graph.read(ERASE_COUNT, **params)[0]
        counts = {"notifications": int(row["notifications"]), "deliveries": int(row["deliveries"]),
                  "subscriptions": int(row["subscriptions"]), "warning_state": int(row["warnings"])}
        if not dry_run:
            self.graph.write(ERASE_NOTIFICATIONS, **params)
            self.graph.write(ERASE_SUBSCRIPTIONS, **params)
            self.graph.write(ERASE_WARNINGS, uids=params["uids"])
        return counts

    def pending_count(self) -> int:
        """Deliveries not yet delivered nor given up."""
        return int(self.graph.read(PENDING)[0]["n"])

    def delivery_log(self, subscription_id: str, owner: str) -> list[dict[str, Any]]:
        """Every delivery of the owner's subscription with each of its attempts, oldest first."""
        out = []
        for row in self.graph.read(DELIVERY_LOG, sub=subscription_id, owner=owner):
            item = dict(row["d"])
            item["attempt_log"] = [json.loads(a) for a in item.get("attempt_log") or []]
            out.append(item)
        return out

    # -- mined warnings --------------------------------------------------------------------------

    def raised_warnings(self, current: dict[tuple[str, str], str]) -> list[tuple[str, str, str]]:
        """Record which (customer, kind) warnings are active now; return the ones newly raised.

        `current` maps each active warning to its reason; a warning active before stays quiet, one
        that went away is dropped (and notifies again if it comes back).
        """
        active = [json.dumps([c, k]) for (c, k) in sorted(current)]
        before = {tuple(json.loads(x)) for x in self.graph.write(RAISE_WARNINGS, current=active,
                                                                 stamp=now_iso())[0]["before"]}
        return [(c, k, reason) for (c, k), reason in sorted(current.items()) if (c, k) not in before]
