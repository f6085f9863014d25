"""Several API processes on one graph act as one service (issue 17, item 5).

Node A is `kcrm serve --workers 2`, node B `kcrm serve --workers 1`, on different ports, sharing
only the Neo4j and the published index (their data dir is their own, with the index linked in):
a key made by the CLI works on both, a revocation reaches the other within a second, both write
one audit log, a job accepted by one is followed on the other and runs once, a webhook fires once
per notification, a job whose process is SIGKILLed is finished by another with nothing lost or
doubled, and no SQLite file appears in the data dir. The kill test runs last (it takes a process).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import start_server, stop_server

pytestmark = pytest.mark.e2e

LEASE_S = 15  # the default: shorter leases expire under a loaded CI machine while a job still runs


@dataclass
class Nodes:
    a: str
    b: str
    procs: list[subprocess.Popen]
    data_dir: Path
    env: dict[str, str]


@pytest.fixture(scope="session")
def nodes(cli_env: dict[str, str], e2e_settings, loaded, tmp_path_factory) -> Iterator[Nodes]:
    data_dir = tmp_path_factory.mktemp("api-nodes")
    (data_dir / "index").symlink_to((e2e_settings.data_dir / "index").resolve())
    env = dict(cli_env, KCRM_DATA_DIR=str(data_dir), KCRM_STATE_LEASE_S=str(LEASE_S), KCRM_ALERTS_POLL_S="0.2",
               KCRM_SHUTDOWN_GRACE_S="2", KCRM_INGEST_QUEUE=f"api-nodes-{uuid.uuid4().hex[:8]}")
    proc_a, a = start_server(env, data_dir / "node-a.log", workers=2)
    proc_b, b = start_server(env, data_dir / "node-b.log", workers=1)
    yield Nodes(a=a, b=b, procs=[proc_a, proc_b], data_dir=data_dir, env=env)
    for proc in (proc_a, proc_b):
        if proc.poll() is None:
            stop_server(proc)


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "kcrm.cli", *args], env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _get(url: str, path: str, key: str, **params: Any) -> httpx.Response:
    return httpx.get(url + path, params=params, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def _wait(check: Callable[[], Any], timeout: float = 120, pause: float = 0.2) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if result := check():
            return result
        time.sleep(pause)
    raise AssertionError(f"not true within {timeout} s")


@pytest.fixture(scope="session")
def admin(nodes: Nodes) -> str:
    return json.loads(_cli(nodes.env, "keys", "create", "--name", "nodes-admin", "--role", "admin", "--all-groups",
                           "--json"))["key"]


def test_a_cli_key_works_on_both_and_a_revocation_reaches_the_other_within_a_second(nodes: Nodes) -> None:
    made = json.loads(_cli(nodes.env, "keys", "create", "--name", "two-nodes", "--role", "agent", "--json"))
    key = made["key"]
    for url in (nodes.a, nodes.b):
        assert _get(url, "/v1/search", key, q="printer", k=1).status_code == 200
    _cli(nodes.env, "keys", "revoke", made["key_id"])
    revoked_at = time.monotonic()
    _wait(lambda: _get(nodes.b, "/v1/search", key, q="printer", k=1).status_code == 401, timeout=5, pause=0.05)
    assert time.monotonic() - revoked_at < 1.0
    assert _get(nodes.a, "/v1/search", key, q="printer", k=1).status_code == 401


def test_audit_entries_from_both_nodes_are_in_one_log(nodes: Nodes, admin: str) -> None:
    words = {nodes.a: f"auditnode{uuid.uuid4().hex[:6]}", nodes.b: f"auditnode{uuid.uuid4().hex[:6]}"}
    for url, word in words.items():
        assert _get(url, "/v1/search", admin, q=word, k=1).status_code == 200

    def both() -> bool:
        targets = {e["target"] for e in _get(nodes.a, "/v1/audit", admin, action="search", limit=50).json()["entries"]}
        return set(words.values()) <= targets

    _wait(both, timeout=10)


def _customers(prefix: str, n: int) -> bytes:
    return "".join(json.dumps({"type": "Customer", "uid": f"{prefix}-{i:05d}", "props": {
        "name": f"Node Test Customer {prefix} {i}", "country": "Norway", "language": "en"}}) + "\n"
        for i in range(n)).encode()


def test_a_job_accepted_by_one_node_is_followed_on_the_other_and_runs_once(nodes: Nodes, admin: str, graph) -> None:
    prefix = f"NODEJOB{uuid.uuid4().hex[:4].upper()}"
    files = [("files", ("customers.jsonl", _customers(prefix, 20), "application/x-ndjson"))]
    accepted = httpx.post(f"{nodes.a}/v1/ingest", files=files, data={"source": prefix.lower()},
                          headers={"Authorization": f"Bearer {admin}"}, timeout=60)
    assert accepted.status_code == 202, accepted.text
    url = accepted.json()["status_url"]
    job = _wait(lambda: (j := _get(nodes.b, url, admin).json())["status"] in ("succeeded", "failed") and j, 300)
    assert job["status"] == "succeeded" and job["summary"]["rejected"]["records"] == 0, job
    assert job["attempts"] == 1
    rows = graph.read("MATCH (c:Customer) WHERE c.uid STARTS WITH $p RETURN c.uid AS uid", p=prefix)
    assert len(rows) == 20 == len({r["uid"] for r in rows})
    graph.write("MATCH (c:Customer) WHERE c.uid STARTS WITH $p DETACH DELETE c", p=prefix)


class Receiver:
    """A webhook endpoint on 127.0.0.1 that counts what it receives."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                receiver.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_webhook_receives_each_notification_once_with_both_nodes_up(nodes: Nodes, admin: str, graph) -> None:
    word = f"nodehook{uuid.uuid4().hex[:6]}"
    receiver = Receiver()
    headers = {"Authorization": f"Bearer {admin}"}
    sub = httpx.post(f"{nodes.b}/v1/subscriptions", json={"query": word, "webhook_url": receiver.url},
                     headers=headers, timeout=60)
    assert sub.status_code == 201, sub.text
    customer = graph.read("MATCH (c:Customer) WHERE c.accessGroups IS NULL RETURN c.uid AS uid LIMIT 1")[0]["uid"]
    cases = "".join(json.dumps({"type": "SupportCase", "uid": f"NODEHOOK-{word}-{i}", "props": {
        "title": f"{word} case {i}", "description": f"The {word} device fails.", "language": "en",
        "status": "open", "priority": "high", "openedAt": "2026-11-20T09:00:00+00:00"},
        "rels": [{"type": "RAISED", "from": customer, "from_type": "Customer"}]}) + "\n" for i in range(5))
    files = [("files", ("cases.jsonl", cases.encode(), "application/x-ndjson"))]
    job = httpx.post(f"{nodes.a}/v1/ingest", files=files, data={"source": f"nodehook-{word}"}, headers=headers,
                     timeout=60)
    assert job.status_code == 202, job.text
    _wait(lambda: _get(nodes.a, job.json()["status_url"], admin).json()["status"] == "succeeded", 300)
    _wait(lambda: len(receiver.bodies) >= 5, timeout=60)
    time.sleep(3)  # every process's dispatcher has polled many times since: a second send would be here
    ids = Counter(body["notification"]["id"] for body in receiver.bodies)
    assert len(ids) == 5 and set(ids.values()) == {1}, ids
    receiver.server.shutdown()
    httpx.delete(f"{nodes.b}/v1/subscriptions/{sub.json()['id']}", headers=headers, timeout=60)
    graph.write("MATCH (c:SupportCase) WHERE c.uid STARTS WITH $p DETACH DELETE c", p=f"NODEHOOK-{word}")


def test_no_sqlite_file_in_the_data_dir_after_a_request_of_each_kind(nodes: Nodes, admin: str) -> None:
    headers = {"Authorization": f"Bearer {admin}"}
    for url in (nodes.a, nodes.b):  # keys and audit (every request), alerts, jobs
        assert _get(url, "/v1/search", admin, q="printer", k=1).status_code == 200
        assert _get(url, "/v1/audit", admin, limit=1).status_code == 200
        assert _get(url, "/v1/alerts", admin).status_code == 200
        assert httpx.get(f"{url}/v1/subscriptions", headers=headers, timeout=60).status_code == 200
        files = [("files", ("note.txt", b"A note for the SQLite check.", "text/plain"))]
        job = httpx.post(f"{url}/v1/ingest", files=files, data={"dry_run": "true"}, headers=headers, timeout=60)
        assert job.status_code == 202
        _wait(lambda: _get(url, job.json()["status_url"], admin).json()["status"] != "queued", 120)
    sqlite = [p for p in nodes.data_dir.rglob("*") if p.is_file() and not p.is_symlink()
              and p.open("rb").read(16) == b"SQLite format 3\x00"]
    assert sqlite == [] and not list(nodes.data_dir.rglob("*.sqlite3*"))


def test_sigkill_of_the_process_running_a_job_and_another_finishes_it(nodes: Nodes, admin: str, graph,
                                                                       state_settings) -> None:
    from kcrm.ingest.job_store import JobStore

    prefix = f"NODEKILL{uuid.uuid4().hex[:4].upper()}"
    count = 3000
    files = [("files", ("customers.jsonl", _customers(prefix, count), "application/x-ndjson"))]
    accepted = httpx.post(f"{nodes.b}/v1/ingest", files=files, data={"source": prefix.lower()},
                          headers={"Authorization": f"Bearer {admin}"}, timeout=60)
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    store = JobStore(state_settings, queue=nodes.env["KCRM_INGEST_QUEUE"])
    held = _wait(lambda: (j := store.get(job_id)) and j.get("owner") and j["status"] == "running" and j, 120, 0.05)
    victim = int(held["owner"].split(":")[1])
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    final = _wait(lambda: (j := store.get(job_id))["status"] in ("succeeded", "failed") and j, 600)
    assert final["status"] == "succeeded", final.get("error") or final
    assert final["attempts"] == 2 and final.get("owner") is None
    assert time.monotonic() - killed_at >= LEASE_S / 2  # taken over only once the dead process's lease ran out
    rows = graph.read("MATCH (c:Customer) WHERE c.uid STARTS WITH $p RETURN c.uid AS uid", p=prefix)
    assert len(rows) == count == len({r["uid"] for r in rows}), "records lost or doubled"
    graph.write("MATCH (c:Customer) WHERE c.uid STARTS WITH $p DETACH DELETE c", p=prefix)
