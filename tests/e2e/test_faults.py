"""Neo4j killed under load: 503 problems with Retry-After, recovery without a restart, nothing lost.

The test owns a second Neo4j (its own home and ports, apart from the session's server the other
tests use) and a `kcrm serve` on it. While a client runs searches, customer reads and ingests,
Neo4j is killed with SIGKILL, left down, and started again. The service must answer 503 (never
another 5xx) while it is down, be ready again by itself, and every ingest it accepted (202) must
end up in the graph exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from kcrm.foundation.config import Settings
from kcrm.kg.processes import send_signal, wait_exit
from kcrm.security.keys import KeyStore
from tests.conftest import REPO, free_port, wipe

pytestmark = pytest.mark.e2e

FAULT_BOLT = int(os.environ.get("KCRM_TEST_FAULT_BOLT_PORT", str(int(os.environ.get("KCRM_TEST_BOLT_PORT", "17687")) + 2)))
FAULT_HTTP = int(os.environ.get("KCRM_TEST_FAULT_HTTP_PORT", str(FAULT_BOLT + 1)))
FAULT_DATA_DIR = Path(os.environ.get("KCRM_TEST_FAULT_DATA_DIR", REPO / "var" / "test-fault"))
PER_UPLOAD = 20


def customers_file(batch: int) -> bytes:
    rows = [{"type": "Customer", "uid": f"FAULT-C{batch:03d}-{i:02d}",
             "props": {"name": f"Fault Test Customer {batch}-{i}", "country": "Norway", "language": "en"}}
            for i in range(PER_UPLOAD)]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.fixture(scope="module")
def fault_neo4j(tmp_path_factory):
    """A Neo4j of this test's own, wiped, with a few searchable items and an index built from them."""
    from kcrm import workflows
    from kcrm.kg.connection import Graph, connect
    from kcrm.kg.server import LocalNeo4j

    settings = Settings(data_dir=FAULT_DATA_DIR, neo4j_bolt_port=FAULT_BOLT, neo4j_http_port=FAULT_HTTP,
                        neo4j_heap="512m", neo4j_pagecache="64m", embedder="hashing")
    server = LocalNeo4j(settings)
    server.start()
    graph = Graph(connect(settings), settings)
    wipe(graph)
    records = tmp_path_factory.mktemp("fault-records")
    (records / "cases.jsonl").write_text("".join(json.dumps({
        "type": "SupportCase", "uid": f"FAULT-CASE-{i}", "props": {
            "title": f"Printer {i} jams after the update", "description": "The printer jams on every page.",
            "language": "en", "status": "open", "openedAt": "2025-01-02T03:04:05+00:00"}}) + "\n"
        for i in range(20)), encoding="utf-8")
    workflows.load_records(settings, graph, records)
    workflows.reindex(settings, graph)
    yield server, settings, graph
    graph.close()
    server.stop()


@pytest.fixture(scope="module")
def fault_api(fault_neo4j, tmp_path_factory):
    """`kcrm serve` on the fault test's Neo4j, with short retry settings, and an admin key for it."""
    server, settings, _ = fault_neo4j
    data_dir = tmp_path_factory.mktemp("fault-api")
    for name in ("index", "lexical"):  # the service reads the index built above, keeps its own state apart
        (data_dir / name).symlink_to((settings.data_dir / name).resolve())
    key, _ = KeyStore(settings).create("fault-test", ["admin"], all_groups=True)  # in the fault test's Neo4j
    port = free_port()
    env = dict(os.environ, KCRM_DATA_DIR=str(data_dir), NEO4J_URI=server.status().bolt_uri,
               NEO4J_PASSWORD=settings.neo4j_password, KCRM_EMBEDDER="hashing", KCRM_NEO4J_RETRY_S="1",
               KCRM_NEO4J_CONNECT_TIMEOUT_S="2", KCRM_API_RETRY_AFTER_S="2", KCRM_LOG_FORMAT="json",
               KCRM_API_WORKERS="1")
    log_path = data_dir / "api.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "kcrm.cli", "serve", "--port", str(port)], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(f"kcrm serve for the fault test did not get ready; see {log_path}")
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        yield client
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


class Load:
    """Searches, graph reads and ingests in a loop on a thread, every answer noted with its phase."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.phase = "before"
        self.answers: list[tuple[str, str, int, str | None]] = []
        self.accepted: list[tuple[str, int]] = []  # (job id, batch)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.batch = 0

    def note(self, phase: str, kind: str, response: httpx.Response) -> None:
        """An answer, under the phase in which its request was sent (a slow answer may come in the next)."""
        self.answers.append((phase, kind, response.status_code, response.headers.get("retry-after")))

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                phase = self.phase
                self.note(phase, "search", self.client.get("/v1/search", params={"q": "printer jams", "k": 3}))
                phase = self.phase
                self.note(phase, "entities", self.client.get("/v1/search", params={"q": "printer", "entities": "true"}))
                phase = self.phase
                self.note(phase, "graph", self.client.get("/v1/entities/FAULT-CASE-1"))
                files = [("files", (f"customers_{self.batch}.jsonl", customers_file(self.batch), "application/json"))]
                phase = self.phase
                response = self.client.post("/v1/ingest", files=files, data={"source": f"fault-{self.batch}"})
                self.note(phase, "ingest", response)
                if response.status_code == 202:
                    self.accepted.append((response.json()["job_id"], self.batch))
                self.batch += 1
            except httpx.HTTPError as exc:  # a transport error is an answer too: the test fails on it below
                self.answers.append((self.phase, "transport", 0, repr(exc)))
            time.sleep(0.2)


def _wait_ready(client: httpx.Client, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if client.get("/readyz").status_code == 200:
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"the service did not get ready within {timeout} s of Neo4j's return")


def test_neo4j_killed_under_load_gives_503_then_recovers_with_nothing_lost(fault_neo4j, fault_api) -> None:
    server, _, graph = fault_neo4j
    load = Load(fault_api)
    load.thread.start()
    time.sleep(4)

    load.phase = "down"
    pid = server.status().pid
    send_signal(pid, signal.SIGKILL)
    assert wait_exit(pid, 30)
    time.sleep(6)
    # stay down until the load sent an upload in this phase: on a loaded machine one round of the load
    # can take longer than the 6 s above, and the check below needs an upload made while Neo4j was away
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p == "down" and k == "ingest" for p, k, *_ in load.answers):
        time.sleep(0.5)
    ready = fault_api.get("/readyz")
    assert ready.status_code == 503 and ready.headers["retry-after"] == "2"
    assert ready.json()["checks"]["neo4j"]["ok"] is False
    down = fault_api.get("/v1/entities/FAULT-CASE-1")
    assert down.status_code == 503 and down.headers["retry-after"] == "2"
    assert down.headers["content-type"].startswith("application/problem+json")
    assert "not reachable" in down.json()["detail"]

    load.phase = "restarting"
    server.start()
    took = _wait_ready(fault_api, 120)
    load.phase = "after"
    deadline = time.monotonic() + 120  # until one whole round (graph read and ingest) was sent after recovery
    while time.monotonic() < deadline and not {"graph", "ingest"} <= {k for p, k, *_ in load.answers if p == "after"}:
        time.sleep(0.5)
    load.stop.set()
    load.thread.join(timeout=120)

    by_phase = Counter((phase, kind, status) for phase, kind, status, _ in load.answers)
    transport = [a for a in load.answers if a[1] == "transport"]
    assert not transport, transport[:3]
    assert not [a for a in load.answers if a[2] >= 500 and a[2] != 503], by_phase
    assert all(retry == "2" for _, _, status, retry in load.answers if status == 503), by_phase
    assert any(phase == "down" and status == 503 for phase, _, status in by_phase), by_phase
    assert by_phase[("after", "graph", 200)] > 0 and by_phase[("after", "ingest", 202)] > 0, by_phase
    assert not [key for key in by_phase if key[0] == "after" and key[2] >= 500], by_phase
    print(f"ready again {took:.1f} s after Neo4j's restart; answers: {dict(by_phase)}")

    assert any(phase == "down" for phase, kind, status, _ in load.answers if kind == "ingest" and status == 202), (
        "no ingest was accepted while Neo4j was down", by_phase)
    deadline = time.monotonic() + 300
    for job_id, _ in load.accepted:
        while (job := fault_api.get(f"/v1/ingest/{job_id}").json())["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
        assert job["status"] == "succeeded" and job["summary"]["rejected"]["records"] == 0, job
    wanted = [f"FAULT-C{batch:03d}-{i:02d}" for _, batch in load.accepted for i in range(PER_UPLOAD)]
    rows = graph.read("MATCH (c:Customer) WHERE c.uid STARTS WITH 'FAULT-C' RETURN c.uid AS uid, count(*) AS n")
    found = {r["uid"]: r["n"] for r in rows}
    copies = graph.read("MATCH (c:Customer) WHERE c.uid STARTS WITH 'FAULT-C' RETURN count(c) AS n")[0]["n"]
    assert sorted(found) == sorted(wanted), "acknowledged ingest records lost or extra"
    assert copies == len(wanted), "duplicated records"
