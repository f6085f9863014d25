"""`kcrm backup` then `kcrm restore` into an empty data dir: the same search, 360 and expert answers.

The backup is taken from the session's own stack (the bundled Neo4j stops for the dump and
starts again; the session's API server reconnects). The restore goes into a fresh data dir with
a second bundled Neo4j on other ports, and a second `kcrm serve` answers from it; the security
database travels in the backup, so the session's admin key works on the restored service.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.e2e

QUESTIONS = ("printer driver fails after update", "GDPR data export for bank customers")


def answers(client: httpx.Client, customer: str) -> dict:
    """What the three surfaces answer, reduced to what must not change (ids and order, counts)."""
    out: dict = {}
    for q in QUESTIONS:
        hits = client.get("/v1/search", params={"q": q, "k": 10})
        assert hits.status_code == 200, hits.text
        out[f"search {q}"] = [h["uid"] for h in hits.json()["hits"]]
        experts = client.get("/v1/experts", params={"q": q})
        assert experts.status_code == 200, experts.text
        out[f"experts {q}"] = [e["uid"] for e in experts.json()["experts"]]
    view = client.get(f"/v1/customers/{customer}/360")
    assert view.status_code == 200, view.text
    body = view.json()
    out["360"] = {k: body[k] for k in ("profile", "transactions", "case_counts", "segment")}
    return out


def kcrm(env: dict, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kcrm.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_backup_restores_into_an_empty_data_dir_with_the_same_answers(api, api_url, api_key, graph, loaded,
                                                                    e2e_settings, tmp_path) -> None:
    customer = graph.read("MATCH (c:Customer)-[:RAISED]->() RETURN c.uid AS uid ORDER BY uid LIMIT 1")[0]["uid"]
    before = answers(api, customer)
    assert before[f"search {QUESTIONS[0]}"], "the question should have hits"

    env = dict(os.environ, KCRM_DATA_DIR=str(e2e_settings.data_dir),
               KCRM_NEO4J_BOLT_PORT=str(e2e_settings.neo4j_bolt_port),
               KCRM_NEO4J_HTTP_PORT=str(e2e_settings.neo4j_http_port), KCRM_NEO4J_HEAP=e2e_settings.neo4j_heap)
    env.pop("NEO4J_URI", None)
    dest = tmp_path / "backup"
    made = kcrm(env, "backup", str(dest))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((dest / "manifest.json").read_text())
    assert "graph/neo4j.dump" in manifest["files"] and "index/manifest.json" in manifest["files"]
    # keys, audit and alerts are service-state nodes in the graph: the dump carries them, and the
    # test's admin key answering on the restored stack below proves it

    damaged = tmp_path / "damaged"
    subprocess.run(["cp", "-r", str(dest), str(damaged)], check=True)
    with (damaged / "index" / "manifest.json").open("a") as handle:
        handle.write(" ")
    restored_dir = tmp_path / "restored"
    restored_env = dict(env, KCRM_DATA_DIR=str(restored_dir), KCRM_NEO4J_BOLT_PORT=str(free_port()),
                        KCRM_NEO4J_HTTP_PORT=str(free_port()), KCRM_NEO4J_HEAP="512m", KCRM_NEO4J_PAGECACHE="256m",
                        KCRM_NEO4J_QUERY_TIMEOUT_S="180")  # a cold second server on 2 shared cores
    refused = kcrm(restored_env, "restore", str(damaged))
    assert refused.returncode == 2 and "index/manifest.json does not match its checksum" in refused.stderr
    assert not (restored_dir / "neo4j" / "data").exists()

    server = None
    try:
        done = kcrm(restored_env, "restore", str(dest))
        assert done.returncode == 0, done.stderr
        port = free_port()
        log = (tmp_path / "serve.log").open("wb")
        server = subprocess.Popen([sys.executable, "-m", "kcrm.cli", "serve", "--port", str(port)],
                                  env=restored_env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=120) as restored:
            assert answers(restored, customer) == before
        assert answers(api, customer) == before  # the source stack is back after its short stop
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        kcrm(restored_env, "neo4j", "stop", timeout=120)
