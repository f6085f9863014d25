"""Turning new facts into notifications: items an ingest batch created, warnings mining raised.

Called after an ingest batch commits (`ingest_hook`) and after `kcrm mine` writes its results
(`notify_mined_warnings`). Every notification is trimmed by its subscriber's access groups, as
they were when the subscription was made: a subscriber is never told about an item it could not
find by searching (the feed trims again by the caller's groups when it is read).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kcrm.alerts.matching import matching_items
from kcrm.alerts.store import AlertStore, Notification, Subscription, now_iso
from kcrm.kg.connection import Graph
from kcrm.kg.mining.writeback import SOURCE as MINED_SOURCE
from kcrm.ontology.model import load_ontology
from kcrm.search.filters import make_filter
from kcrm.search.from_graph import searchable_items
from kcrm.search.semantic import make_snippet
from kcrm.search.trimming import item_groups, visible_to

log = logging.getLogger(__name__)

_O = load_ontology()
CUSTOMER = _O.class_spec("Customer").name
SUMMARY_CHARS = 240

# The nodes a batch created (first seen at this write) that touch a watched entity.
NEW_NEIGHBOURS = """
MATCH (n) WHERE n.uid IN $uids AND n.ingestedAt = $now
MATCH (n)-[r]-(e) WHERE e.uid IN $entities
RETURN n.uid AS uid, labels(n)[0] AS type, coalesce(n.title, n.name, n.orderNumber, n.uid) AS title,
       coalesce(n.description, n.text, '') AS text, n.accessGroups AS groups,
       collect(DISTINCT [e.uid, type(r)]) AS links
"""
NEW_UIDS = "MATCH (n) WHERE n.uid IN $uids AND n.ingestedAt = $now RETURN n.uid AS uid"
WARNINGS = f"""
MATCH (c:{CUSTOMER}) WHERE c.computedBy = $mined AND (c.churnWarning = true OR c.deviationFlagged = true)
RETURN c.uid AS uid, c.name AS name, c.accessGroups AS groups, c.churnWarning AS churn, c.churnReason AS churnReason,
       c.deviationFlagged AS deviation, c.deviationReason AS deviationReason
"""

CommitHook = Callable[[list[str], str], None]


def subscription_filter(sub: Subscription) -> Any:
    """The stored filter parameters of a saved search as a `SearchFilter`."""
    fields = {k: v for k, v in sub.filters.items() if k not in ("date_from", "date_to")}
    return make_filter(fields, date_from=sub.filters.get("date_from"), date_to=sub.filters.get("date_to"))


# In an entity watch's filters: its owner may read mined figures, so it hears its customer's warnings.
WARNINGS_MARK = "warnings"


def _webhooks(subs: list[Subscription]) -> dict[str, str]:
    return {s.id: s.webhook_url for s in subs if s.webhook_url}


def notify_new_items(store: AlertStore, graph: Graph, uids: list[str], now: str) -> list[Notification]:
    """Notify query and entity subscribers of the nodes among `uids` that were created at `now`."""
    queries, entities = store.subscriptions(kind="query"), store.subscriptions(kind="entity")
    if not uids or not (queries or entities):
        return []
    new = {r["uid"] for r in graph.read(NEW_UIDS, uids=uids, now=now)}
    if not new:
        return []
    notes: list[Notification] = []
    if queries:
        items = list(searchable_items(graph, sorted(new)))
        for sub in queries:
            visible = [i for i in items if visible_to(item_groups(i.meta), sub.groups)]
            for item in matching_items(sub.query or "", subscription_filter(sub), visible):
                notes.append(Notification(sub.id, sub.owner, "new_item", item.uid, item.type, item.title,
                                          make_snippet(item.text, sub.query or "", SUMMARY_CHARS),
                                          sorted(item_groups(item.meta)), key="created"))
    if entities:
        watched = sorted({s.entity for s in entities if s.entity})
        rows = graph.read(NEW_NEIGHBOURS, uids=sorted(new), now=now, entities=watched)
        for row in rows:
            groups = item_groups({"accessGroups": row["groups"]})
            linked = {uid for uid, _ in row["links"]}
            for sub in entities:
                if sub.entity in linked and visible_to(groups, sub.groups):
                    how = ", ".join(sorted(t for uid, t in row["links"] if uid == sub.entity))
                    notes.append(Notification(sub.id, sub.owner, "new_item", row["uid"], row["type"],
                                              row["title"] or row["uid"],
                                              f"new {row['type']} linked to {sub.entity} ({how}): "
                                              + make_snippet(row["text"] or "", "", SUMMARY_CHARS - 60),
                                              sorted(groups), key="created"))
    added = store.notify(notes, _webhooks(queries + entities))
    if added:
        log.info("alerts: %d notifications for %d new nodes", len(added), len(new))
    return added


def ingest_hook(store: AlertStore, graph: Graph) -> CommitHook:
    """The callback an ingest calls after each committed batch: (uids written, the batch's write time).

    A failure here is logged, never raised: the batch is committed and the ingest must go on.
    """
    def on_commit(uids: list[str], now: str) -> None:
        try:
            notify_new_items(store, graph, uids, now)
        except Exception:  # alerts must not break an ingest that already committed
            log.exception("alerts: could not notify for a committed batch of %d nodes", len(uids))

    return on_commit


def current_warnings(graph: Graph) -> dict[tuple[str, str], dict[str, Any]]:
    """(customer, kind) -> the warning's facts, for every churn and deviation warning mining wrote."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in graph.read(WARNINGS, mined=MINED_SOURCE):
        base = {"name": row["name"] or row["uid"], "groups": sorted(item_groups({"accessGroups": row["groups"]}))}
        if row["churn"]:
            out[(row["uid"], "churn_warning")] = {**base, "reason": row["churnReason"] or "churn warning"}
        if row["deviation"]:
            out[(row["uid"], "deviation")] = {**base, "reason": row["deviationReason"] or "behaviour deviation"}
    return out


def notify_mined_warnings(store: AlertStore, graph: Graph) -> list[Notification]:
    """Notify subscribers of churn and deviation warnings that this mining run newly raised.

    "warnings" subscribers hear of every visible customer's; entity subscribers of their customer's,
    when the watch was made by a caller that may read mined figures (`WARNINGS_MARK` in its filters:
    the API sets it from `kg.field_access.reads_mined`; only analysts may make "warnings" watches).
    """
    facts = current_warnings(graph)
    raised = store.raised_warnings({key: fact["reason"] for key, fact in facts.items()})
    subs = store.subscriptions(kind="warnings") + store.subscriptions(kind="entity")
    notes = []
    raised_at = now_iso()  # a warning that went away and came back is a new notification
    for customer, kind, reason in raised:
        fact = facts[(customer, kind)]
        groups = frozenset(fact["groups"])
        for sub in subs:
            if sub.kind == "entity" and (sub.entity != customer or not sub.filters.get(WARNINGS_MARK)):
                continue
            if not visible_to(groups, sub.groups):
                continue
            label = "Churn warning" if kind == "churn_warning" else "Behaviour deviation"
            notes.append(Notification(sub.id, sub.owner, kind, customer, CUSTOMER, f"{label}: {fact['name']}",
                                      reason, sorted(groups), key=raised_at))
    added = store.notify(notes, _webhooks(subs))
    log.info("alerts: %d warnings newly raised, %d notifications", len(raised), len(added))
    return added
