"""The service state in the shared Neo4j: alerts once-only rules, job leases, batched audit, isolation.

Each store is used as two processes would use it (two store objects, two process ids) against the
real test Neo4j; the two-server tests over HTTP are in test_api_nodes.py.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from kcrm.alerts.store import AlertStore, Notification, Subscription
from kcrm.ingest.job_store import JobStore
from kcrm.security.access import Principal
from kcrm.security.audit import AuditLog, entry_row
from kcrm.security.audit_writer import AuditWriter
from kcrm.statedb import SERVICE_LABEL, STATE_LABELS, WARNING

pytestmark = pytest.mark.e2e


@pytest.fixture
def alerts(state_settings, loaded) -> AlertStore:
    return AlertStore(state_settings)


def test_store_notifies_once_and_queues_webhooks(alerts: AlertStore) -> None:
    owner = f"k-{uuid.uuid4().hex[:8]}"
    sub = alerts.add_subscription(Subscription("", owner, "me", ["public"], "query", query="printer",
                                               webhook_url="http://127.0.0.1:9/hook"))
    before = alerts.pending_count()
    note = Notification(sub.id, owner, "new_item", "CASE-1", "SupportCase", "t", "s", ["public"], key="k")
    assert len(alerts.notify([note], {sub.id: sub.webhook_url})) == 1
    again = Notification(sub.id, owner, "new_item", "CASE-1", "SupportCase", "t", "s", ["public"], key="k")
    assert alerts.notify([again], {sub.id: sub.webhook_url}) == []
    assert alerts.pending_count() == before + 1 and len(alerts.notifications(owner)) == 1
    assert alerts.notifications(owner, after_id=10**20) == []  # past int64: an empty page, not an error
    assert alerts.notifications("someone-else") == []
    assert alerts.subscription(sub.id, "someone-else") is None
    assert not alerts.delete_subscription(sub.id, "someone-else")
    assert alerts.delete_subscription(sub.id, owner) and alerts.pending_count() == before


def test_claimed_deliveries_are_not_handed_out_twice_across_processes(alerts: AlertStore, state_settings) -> None:
    owner = f"k-{uuid.uuid4().hex[:8]}"
    sub = alerts.add_subscription(Subscription("", owner, "me", None, "warnings", webhook_url="http://127.0.0.1:9/"))
    alerts.notify([Notification(sub.id, owner, "churn_warning", "CUS-1", "Customer", "t", "r", [], key="1")],
                  {sub.id: sub.webhook_url})
    other = AlertStore(state_settings)
    mine = [r for r in alerts.claim_due(lease_s=30, limit=100) if r["subscription_id"] == sub.id]
    assert len(mine) == 1
    assert [r for r in other.claim_due(lease_s=30, limit=100) if r["subscription_id"] == sub.id] == []
    alerts.delete_subscription(sub.id, owner)


def test_warnings_notify_when_raised_not_while_they_last(alerts: AlertStore, graph) -> None:
    graph.write(f"MATCH (w:{WARNING}) DETACH DELETE w")
    assert alerts.raised_warnings({("CUS-1", "churn_warning"): "r1"}) == [("CUS-1", "churn_warning", "r1")]
    assert alerts.raised_warnings({("CUS-1", "churn_warning"): "r2"}) == []
    assert alerts.raised_warnings({}) == []
    assert alerts.raised_warnings({("CUS-1", "churn_warning"): "r3"}) == [("CUS-1", "churn_warning", "r3")]
    graph.write(f"MATCH (w:{WARNING}) DETACH DELETE w")


def _job(store: JobStore) -> str:
    job_id = time.strftime("%Y%m%dT%H%M%S") + f"{uuid.uuid4().int % 10**6:06d}Z"
    store.register(job_id, {"job_id": job_id, "status": "queued", "stage": "queued", "created_at": "0000-test",
                            "request": {"fmt": None, "mapping": None, "source": "lease-test", "dry_run": True}})
    return job_id


def _claim_this(store: JobStore, job_id: str, me: str, lease_s: float, attempts: int = 3) -> dict | None:
    got = store.claim(me, lease_s, attempts)
    assert got is None or got["job_id"] == job_id, got
    return got


def _stores(state_settings, n: int = 2) -> list[JobStore]:
    """`n` processes' job stores on a queue of this test's own (the session server's worker ignores it)."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    return [JobStore(state_settings, queue=queue) for _ in range(n)]


def test_a_job_is_claimed_once_taken_over_after_its_lease_and_failed_after_n_attempts(state_settings,
                                                                                      graph, loaded) -> None:
    a, b = _stores(state_settings)
    job_id = _job(a)
    first = _claim_this(a, job_id, "proc-a", lease_s=60)
    assert first is not None and first["owner"] == "proc-a" and first["attempts"] == 1
    assert _claim_this(b, job_id, "proc-b", lease_s=60) is None  # held: nobody else gets it
    assert a.renew(job_id, "proc-a", 60, "read", 10) and not b.renew(job_id, "proc-b", 60, "read", 10)

    def dies(store: JobStore, me: str) -> None:
        """The holder stops renewing: its lease runs out (made short here rather than waited for)."""
        assert store.renew(job_id, me, 0.01, "read", 10)
        time.sleep(0.1)

    dies(a, "proc-a")
    second = _claim_this(b, job_id, "proc-b", lease_s=60)
    assert second is not None and second["owner"] == "proc-b" and second["attempts"] == 2
    assert not a.finish(job_id, "proc-a", {"status": "succeeded"})  # a stale owner cannot overwrite
    dies(b, "proc-b")
    assert _claim_this(a, job_id, "proc-a", lease_s=60)["attempts"] == 3
    dies(a, "proc-a")
    failed = b.claim("proc-b", 60, 3)
    assert failed is not None and failed["job_id"] == job_id and failed["status"] == "failed"
    assert "after 3 attempts" in failed["error"] and "proc-a" in failed["error"]
    assert b.get(job_id)["status"] == "failed" and b.claim("proc-b", 60, 3) is None


def test_a_released_job_is_claimed_again_at_once_without_counting_an_attempt(state_settings, loaded) -> None:
    store, = _stores(state_settings, 1)
    job_id = _job(store)
    assert _claim_this(store, job_id, "proc-a", lease_s=60)["attempts"] == 1
    assert store.release(job_id, "proc-a")
    again = _claim_this(store, job_id, "proc-b", lease_s=60)
    assert again is not None and again["attempts"] == 1
    assert store.finish(job_id, "proc-b", {"status": "succeeded", "stage": "done"})
    assert store.get(job_id)["status"] == "succeeded"


def test_batched_audit_loses_nothing_under_concurrent_writers(state_settings, loaded) -> None:
    import threading

    action = f"test.batch.{uuid.uuid4().hex[:8]}"
    log = AuditLog(state_settings)
    writers = [AuditWriter(log, max_queue=500, batch=50), AuditWriter(AuditLog(state_settings), max_queue=500)]
    who = Principal(key_id="0123456789ab", name="batch-test", roles=frozenset({"admin"}), groups=frozenset())

    def hammer(writer: AuditWriter) -> None:
        for i in range(600):
            writer.submit(entry_row(who, action, target=str(i)))

    threads = [threading.Thread(target=hammer, args=(w,)) for w in writers for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for writer in writers:
        writer.close()
        assert writer.counters.dropped == 0 and writer.counters.written == writer.counters.submitted == 1200
    assert log.count(action) == 2400
    ids = [e.id for e in log.query(action=action, limit=1000)]
    assert len(set(ids)) == len(ids) == 1000  # one sequence for every writer: no id handed out twice


def test_service_state_is_not_customer_knowledge(graph, loaded, api) -> None:
    from kcrm.ontology.model import load_ontology

    ontology = load_ontology()
    classes = set(ontology.classes) | {spec.name for spec in ontology.classes.values()}
    assert not set(STATE_LABELS) & classes and SERVICE_LABEL not in classes
    stray = graph.read(f"MATCH (n:{SERVICE_LABEL}) WHERE n.uid IS NOT NULL OR n.updatedAt IS NOT NULL "
                       "OR n.source IS NOT NULL OR n.accessGroups IS NOT NULL RETURN count(n) AS n")[0]["n"]
    assert stray == 0  # none carries what search, mining, watermarks and pruning select on
    assert graph.read(f"MATCH (n:{SERVICE_LABEL}) RETURN count(n) AS n")[0]["n"] > 0
    hits = api.get("/v1/search", params={"q": "kcrm audit key digest", "k": 50}).json()
    assert not any(h.get("type", "").startswith("Kcrm") for h in hits.get("hits", [])), json.dumps(hits)[:500]
