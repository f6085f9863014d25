"""An ingest killed with SIGKILL mid-run leaves only whole batches, and re-running finishes it exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kcrm import workflows

pytestmark = pytest.mark.e2e

SOURCE = "ingtest-kill"
BATCH = 10
VOLATILE = {"ingestedAt", "updatedAt"}
CLEANUP = "MATCH (n {source: $source}) CALL (n) { DETACH DELETE n } RETURN count(*) AS n"
NODES = "MATCH (n {source: $source}) RETURN labels(n)[0] AS label, n.uid AS uid, properties(n) AS props"
RELS = ("MATCH (a {source: $source})-[r {source: $source}]->(b) RETURN a.uid AS start, type(r) AS type, "
        "b.uid AS end, properties(r) AS props")
MENTIONS = "MATCH (a {source: $source})-[:MENTIONS]->(b) RETURN a.uid AS case, b.uid AS product"


def write_source(root: Path, customers: int = 800, products: int = 150, cases: int = 150) -> Path:
    """Record-form files; customers come first and point at products read later, cases at customers."""
    root.mkdir()
    rows = {
        "a_segments.jsonl": [{"type": "Segment", "uid": f"KILL-SEG-{i}", "props": {"name": f"Segment {i}"}}
                             for i in range(3)],
        "b_customers.jsonl": [{"type": "Customer", "uid": f"KILL-C{i:05d}", "props": {
            "name": f"Kill Test Customer {i}", "country": "Norway", "language": "en", "email": f"c{i}@kill.example"},
            "rels": [{"to": f"KILL-SEG-{i % 3}", "to_type": "Segment", "type": "IN_SEGMENT"},
                     {"to": f"KILL-P{i % products:04d}", "to_type": "Product", "type": "PURCHASED",
                      "props": {"quantity": i % 7 + 1}}]} for i in range(customers)],
        "c_products.jsonl": [{"type": "Product", "uid": f"KILL-P{i:04d}", "props": {"name": f"Widget {i}"}}
                             for i in range(products)],
        "d_cases.jsonl": [{"type": "SupportCase", "uid": f"KILL-CASE-{i:04d}", "props": {
            "title": f"Widget {i} stopped", "description": f"Widget {i} stopped working after an update.",
            "language": "en", "status": "open", "openedAt": "2025-01-02T03:04:05+00:00"},
            "rels": [{"from": f"KILL-C{i * 5:05d}", "from_type": "Customer", "type": "RAISED"}]}
            for i in range(cases)],
    }
    for name, items in rows.items():
        (root / name).write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
    return root


def cli_env(e2e_settings, neo4j_uri: str, data_dir: Path, batch: int = BATCH) -> dict[str, str]:
    return dict(os.environ, KCRM_DATA_DIR=str(data_dir), NEO4J_URI=neo4j_uri, KCRM_LOAD_BATCH_SIZE=str(batch),
                NEO4J_PASSWORD=e2e_settings.neo4j_password, KCRM_LOG_LEVEL="WARNING")


def snapshot(graph) -> tuple[dict, set]:
    nodes = {(r["label"], r["uid"]): {k: v for k, v in r["props"].items() if k not in VOLATILE}
             for r in graph.read(NODES, source=SOURCE)}
    rels = {(r["start"], r["type"], r["end"], json.dumps(r["props"], sort_keys=True))
            for r in graph.read(RELS, source=SOURCE)}
    return nodes, rels


def journal(data_dir: Path) -> tuple[Path, list[dict]]:
    found = sorted((data_dir / "ingest").glob("*/journal.jsonl"))
    if not found:
        return Path(), []
    lines = found[-1].read_text(encoding="utf-8").splitlines()
    return found[-1], [json.loads(line) for line in lines if line.endswith("}")]


def kill_mid_run(cmd: list[str], env: dict[str, str], data_dir: Path, batches: int = 3) -> list[dict]:
    """Start the ingest, SIGKILL it once the journal shows `batches` committed batches."""
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and process.poll() is None:
            entries = journal(data_dir)[1]
            if sum(e["event"] == "batch" for e in entries) >= batches:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, f"the ingest ended by itself (rc {process.returncode})"
    return journal(data_dir)[1]


@pytest.fixture
def clean(graph):
    graph.write(CLEANUP, source=SOURCE)
    yield graph
    graph.write(CLEANUP, source=SOURCE)


def test_killed_ingest_leaves_whole_batches_and_resumes_to_a_clean_runs_graph(clean, e2e_settings, neo4j_uri,
                                                                               tmp_path) -> None:
    source = write_source(tmp_path / "src")
    data_dir = tmp_path / "data"
    env = cli_env(e2e_settings, neo4j_uri, data_dir)
    cmd = [sys.executable, "-m", "kcrm.cli", "ingest", str(source), "--source", SOURCE]

    entries = kill_mid_run(cmd, env, data_dir)
    assert entries[0]["event"] == "start" and not any(e["event"] == "done" for e in entries)
    planned = next(e["batches"] for e in entries if e["event"] == "plan")
    committed = [e for e in entries if e["event"] == "batch"]
    assert 1 <= len(committed) < planned
    journaled = {uid for e in committed for uid in e["nodes"]}
    partial_nodes, partial_rels = snapshot(clean)
    present = {uid for _, uid in partial_nodes}
    assert journaled <= present
    # a kill between a commit and its journal line leaves at most that one (whole) batch unjournaled
    assert len(present - journaled) in (0, BATCH)

    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["run_id"] == Path(journal(data_dir)[0]).parent.name
    assert summary["resumed"]["committed_batches"] == len(committed)
    assert summary["resumed"]["skipped_batches"] >= len(committed)
    assert summary["resumed"]["batches"] == planned
    assert journal(data_dir)[1][-1]["event"] == "done"
    final_nodes, final_rels = snapshot(clean)
    # the resumed run linked its cases once every batch had committed: "Widget 7 stopped" mentions Widget 7
    widgets = {(r["case"], r["product"]) for r in clean.read(MENTIONS, source=SOURCE)}
    assert widgets == {(f"KILL-CASE-{i:04d}", f"KILL-P{i:04d}") for i in range(150)}

    clean.write(CLEANUP, source=SOURCE)
    single = subprocess.run(cmd, env=cli_env(e2e_settings, neo4j_uri, tmp_path / "data2", batch=500), capture_output=True,
                            text=True, timeout=300, check=False)
    assert single.returncode == 0, single.stderr
    assert "resumed" not in json.loads(single.stdout)
    clean_nodes, clean_rels = snapshot(clean)
    assert len(clean_nodes) == 3 + 800 + 150 + 150 and len(clean_rels) == 800 * 2 + 150

    assert final_nodes == clean_nodes
    assert final_rels == clean_rels

    # after the kill: exactly the clean graph restricted to the nodes present (no record without its edges)
    assert partial_nodes == {key: props for key, props in clean_nodes.items() if key[1] in present}
    assert partial_rels == {r for r in clean_rels if r[0] in present and r[2] in present}


def test_a_graph_change_outside_ingest_marks_the_index_stale(graph, loaded, e2e_settings, neo4j_uri, api,
                                                             tmp_path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "cases.jsonl").write_text(json.dumps({"type": "SupportCase", "uid": "KILL-STALE-1", "props": {
        "title": "Stale index probe", "description": "A case added after the index was built.", "language": "en",
        "status": "open", "openedAt": "2025-01-02T03:04:05+00:00"}}) + "\n", encoding="utf-8")
    env = dict(os.environ, KCRM_DATA_DIR=str(e2e_settings.data_dir), NEO4J_URI=neo4j_uri,
               NEO4J_PASSWORD=e2e_settings.neo4j_password, KCRM_LOG_LEVEL="WARNING")
    try:
        before = api.get("/v1/admin/readiness", timeout=10).json()["checks"]["index"]
        result = workflows.ingest(e2e_settings, graph, source, source=SOURCE)
        assert result.ok and result.index_stale is False  # the ingest updated the index in place
        graph.write("MATCH (c:SupportCase {uid: 'KILL-STALE-1'}) SET c.updatedAt = '2999-01-01T00:00:00+00:00'")  # not via ingest
        ready = api.get("/v1/admin/readiness", timeout=10)
        assert ready.status_code == 200
        index = ready.json()["checks"]["index"]
        assert index["ok"] and index["stale"] is True and "kcrm reindex" in index["detail"]
        check = subprocess.run([sys.executable, "-m", "kcrm.cli", "reindex", "--check"], env=env,
                               capture_output=True, text=True, timeout=120, check=False)
        assert check.returncode == 1 and "stale" in check.stdout
    finally:
        graph.write(CLEANUP, source=SOURCE)
    assert before["stale"] is not None
