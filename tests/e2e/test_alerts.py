"""Alerts end to end: subscriptions over HTTP, a real ingest job, a real webhook receiver on loopback.

The receiver fails twice and then accepts; the delivery log shows three attempts spaced by the
exponential backoff. Trimming of notifications by the subscriber's groups and the warnings of a
real `kcrm mine` run are checked through the service layer against the same Neo4j.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kcrm.alerts.notify import notify_mined_warnings, notify_new_items
from kcrm.alerts.store import AlertStore, Subscription
from kcrm.foundation.config import Settings

pytestmark = pytest.mark.e2e

WORD = "quasarflux"  # in no sample text: only the records ingested here match
CLEANUP = "MATCH (n) WHERE n.uid STARTS WITH 'ALERT-' CALL (n) { DETACH DELETE n }"


class FlakyReceiver:
    """A webhook endpoint on 127.0.0.1 that answers 500 to its first `failures` POSTs, then 200."""

    def __init__(self, failures: int = 2) -> None:
        self.failures = failures
        self.calls: list[tuple[int, dict, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                code = 500 if len(receiver.calls) < receiver.failures else 200
                receiver.calls.append((code, body, dict(self.headers)))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FlakyReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def clean(graph, loaded) -> Iterator:
    graph.write(CLEANUP)
    yield graph
    graph.write(CLEANUP)


def case_record(uid: str, customer: str, title: str, groups: list[str] | None = None,
                description: str = f"The {WORD} module stopped syncing after the update.") -> dict:
    props = {"title": title, "description": description,
             "status": "open", "priority": "high", "openedAt": "2026-11-20T09:00:00+00:00", "language": "en"}
    if groups:
        props["accessGroups"] = groups
    return {"type": "SupportCase", "uid": uid, "props": props,
            "rels": [{"type": "RAISED", "from": customer, "from_type": "Customer"}]}


def wait_until(check, timeout: float = 120.0, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def test_ingested_match_reaches_the_feed_and_a_flaky_webhook(api, clean) -> None:
    customer = clean.read("MATCH (c:Customer) WHERE c.accessGroups IS NULL RETURN c.uid AS uid ORDER BY uid "
                          "LIMIT 1")[0]["uid"]
    with FlakyReceiver(failures=2) as receiver:
        made = api.post("/v1/subscriptions", json={"query": f"{WORD} status:open", "webhook_url": receiver.url})
        assert made.status_code == 201, made.text
        sub = made.json()
        watch = api.post("/v1/subscriptions", json={"entity": customer}).json()
        other = api.post("/v1/subscriptions", json={"query": f"{WORD} status:closed"}).json()
        assert {s["id"] for s in api.get("/v1/subscriptions").json()} >= {sub["id"], watch["id"], other["id"]}
        lines = [case_record("ALERT-CASE-1", customer, "Sync module stops after update"),
                 case_record("ALERT-CASE-2", customer, "Printer noise", description="The tray rattles.")]
        files = [("files", ("cases.jsonl", "\n".join(json.dumps(x) for x in lines).encode(), "application/x-ndjson"))]
        job = api.post("/v1/ingest", files=files, data={"source": "alerttest"})
        assert job.status_code == 202, job.text
        status = wait_until(lambda: (b := api.get(job.json()["status_url"]).json())["status"] in
                            ("succeeded", "failed") and b)
        assert status["status"] == "succeeded", status

        feed = wait_until(lambda: api.get("/v1/alerts", params={"subscription": sub["id"]}).json()["notifications"])
        assert [n["item_uid"] for n in feed] == ["ALERT-CASE-1"] and feed[0]["kind"] == "new_item"
        assert WORD in feed[0]["summary"]
        watched = api.get("/v1/alerts", params={"subscription": watch["id"]}).json()["notifications"]
        assert sorted(n["item_uid"] for n in watched) == ["ALERT-CASE-1", "ALERT-CASE-2"]
        assert api.get("/v1/alerts", params={"subscription": other["id"]}).json()["notifications"] == []

        log = wait_until(lambda: [d for d in api.get(f"/v1/subscriptions/{sub['id']}/deliveries").json()
                                  if d["status"] != "pending"], timeout=60)
        assert len(log) == 1 and log[0]["status"] == "delivered" and log[0]["attempts"] == 3
        attempts = log[0]["attempt_log"]
        assert [a["status_code"] for a in attempts] == [500, 500, 200]
        assert [code for code, _, _ in receiver.calls] == [500, 500, 200]
        assert all(body["notification"]["item_uid"] == "ALERT-CASE-1" for _, body, _ in receiver.calls)
        assert [h["X-Kcrm-Attempt"] for _, _, h in receiver.calls] == ["1", "2", "3"]
        backoff = Settings().alerts_webhook_backoff_s
        times = [datetime.fromisoformat(a["at"]) for a in attempts]
        for n in (1, 2):  # each retry waits at least backoff * 2**(n-1) after failure n
            assert (times[n] - times[n - 1]).total_seconds() >= backoff * 2 ** (n - 1)

    assert api.get("/v1/alerts").json()["count"] >= 3
    assert api.delete(f"/v1/subscriptions/{sub['id']}").status_code == 204
    gone = api.delete(f"/v1/subscriptions/{sub['id']}")
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")
    assert sub["id"] not in {s["id"] for s in api.get("/v1/subscriptions").json()}
    for leftover in (watch, other):
        api.delete(f"/v1/subscriptions/{leftover['id']}")


def test_bad_subscriptions_are_refused_precisely(api, loaded) -> None:
    both = api.post("/v1/subscriptions", json={"query": "printer", "entity": "CUS-0001"})
    assert both.status_code == 422 and "exactly one" in both.json()["detail"]
    bad_date = api.post("/v1/subscriptions", json={"query": "printer date:2024-13"})
    assert bad_date.status_code == 400 and "2024-13" in bad_date.json()["detail"]
    missing = api.post("/v1/subscriptions", json={"entity": "CUS-NO-SUCH"})
    assert missing.status_code == 404
    ftp = api.post("/v1/subscriptions", json={"warnings": True, "webhook_url": "ftp://127.0.0.1/x"})
    assert ftp.status_code == 422


def test_notifications_are_trimmed_by_the_subscribers_groups(clean, tmp_path, state_settings) -> None:
    from kcrm.ingest.pipeline import IngestOptions, ingest_path
    from kcrm.ontology.model import load_ontology

    store = AlertStore(state_settings)
    customer = clean.read("MATCH (c:Customer) WHERE c.accessGroups IS NULL RETURN c.uid AS uid ORDER BY uid "
                          "LIMIT 1")[0]["uid"]
    outsider = store.add_subscription(Subscription("", "k-out", "outsider", ["public"], "query", query=WORD))
    insider = store.add_subscription(Subscription("", "k-in", "insider", ["key-accounts", "public"], "query",
                                                  query=WORD))
    watcher = store.add_subscription(Subscription("", "k-out", "outsider", ["public"], "entity", entity=customer))
    source = tmp_path / "restricted"
    source.mkdir()
    (source / "cases.jsonl").write_text(json.dumps(case_record("ALERT-CASE-9", customer, "Key account sync",
                                                               ["key-accounts"])) + "\n", encoding="utf-8")
    seen: list[tuple[list[str], str]] = []
    result = ingest_path(source, load_ontology(), clean, IngestOptions(source="alerttest"), tmp_path / "run",
                         on_commit=lambda uids, now: seen.append((uids, now)))
    assert result.ok and seen and "ALERT-CASE-9" in seen[0][0]
    notify_new_items(store, clean, *seen[0])
    assert [n["item_uid"] for n in store.notifications("k-in")] == ["ALERT-CASE-9"]
    assert store.notifications("k-out") == []  # neither the query nor the entity watch leaks it
    assert store.notifications("k-out", subscription_id=watcher.id) == []
    notify_new_items(store, clean, *seen[0])
    assert len(store.notifications("k-in")) == 1  # replaying the batch notifies nobody twice
    assert store.notifications("k-in")[0]["subscription_id"] == insider.id and outsider.id


def test_mined_warnings_notify_once_and_respect_groups(graph, loaded, state_settings) -> None:
    from kcrm.kg.mining.pipeline import run_mining
    from kcrm.kg.mining.writeback import remove_stale
    from kcrm.ontology.model import load_ontology

    run_mining(graph, load_ontology())
    query = ("MATCH (c:Customer) WHERE c.churnWarning = true OR c.deviationFlagged = true "
             "RETURN c.uid AS uid, c.accessGroups AS groups ORDER BY uid")
    warned = graph.read(query)
    assert len(warned) >= 2
    changed = None
    if not any(r["groups"] for r in warned):  # make sure one warned customer is restricted
        changed = warned[-1]["uid"]
        graph.write("MATCH (c:Customer {uid: $uid}) SET c.accessGroups = ['key-accounts']", uid=changed)
        warned = graph.read(query)
    try:
        check_mined_warnings(graph, state_settings, warned)
    finally:
        if changed:
            graph.write("MATCH (c:Customer {uid: $uid}) REMOVE c.accessGroups", uid=changed)
        remove_stale(graph, load_ontology())  # leave the graph as loaded for the tests after this one


def check_mined_warnings(graph, state_settings, warned: list[dict]) -> None:
    from kcrm.statedb import WARNING

    public_uids = [r["uid"] for r in warned if not r["groups"]]
    graph.write(f"MATCH (w:{WARNING}) DETACH DELETE w")  # forget what earlier mining runs raised
    store = AlertStore(state_settings)
    everyone = store.add_subscription(Subscription("", "k-all", "all", None, "warnings"))
    public = store.add_subscription(Subscription("", "k-pub", "pub", ["public"], "warnings"))
    one = store.add_subscription(Subscription("", "k-one", "one", ["public"], "entity", filters={"warnings": True},
                                           entity=public_uids[0]))
    blind = store.add_subscription(Subscription("", "k-agent", "agent", ["public"], "entity", entity=public_uids[0]))
    first = notify_mined_warnings(store, graph)
    kinds = {(n.item_uid, n.kind) for n in first if n.subscription_id == everyone.id}
    expected = {(r["uid"], k) for r in graph.read(
        "MATCH (c:Customer) WHERE c.churnWarning = true RETURN c.uid AS uid") for k in ["churn_warning"]}
    expected |= {(r["uid"], "deviation") for r in graph.read(
        "MATCH (c:Customer) WHERE c.deviationFlagged = true RETURN c.uid AS uid")}
    assert kinds == expected
    restricted = {r["uid"] for r in warned if r["groups"]}
    public_seen = {n.item_uid for n in first if n.subscription_id == public.id}
    assert public_seen == {r["uid"] for r in warned} - restricted
    assert restricted and {n.item_uid for n in first if n.subscription_id == one.id} == {public_uids[0]}
    assert not [n for n in first if n.subscription_id == blind.id]  # a watch without the mark: no mined warning
    assert notify_mined_warnings(store, graph) == []  # still warned: no second notification
