"""Walking-skeleton timings: Neo4j start, load, idempotent reload, reindex and search latency.

The reindex is timed cold (no published index, so every passage is embedded), then again over
the unchanged graph, where the rebuild reuses the published vectors (`semantic.ReusingEmbedder`).

Runs against its own data dir and port (default var/bench, Bolt 27687) so it never touches a
demo or test server. Each figure comes with a baseline measured in the same process:
- reload vs first load (a reload writes nothing, so it should cost a fraction of a load);
- reindex of an unchanged graph vs a cold reindex (vectors reused, nothing embedded);
- FAISS search vs a brute-force numpy dot product over the same vectors and query embeddings.

    .venv/bin/python benchmarks/pipeline.py [--queries 200] [--json var/bench/pipeline.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from kcrm import workflows
from kcrm.foundation.config import Settings
from kcrm.kg.server import LocalNeo4j
from kcrm.search.hybrid import HybridSearch
from kcrm.search.service import load_search_service

QUERIES = [
    "refund policy", "退款", "printer driver fails after update", "打印机驱动更新后无法打印",
    "router keeps dropping wifi", "路由器经常断网", "invoice is wrong", "发票开错了", "cannot log in two-factor",
    "无法登录 验证码", "laptop battery drains fast", "笔记本电池耗电快", "GDPR data export request",
    "个人信息 删除 请求", "order delayed shipping", "快递延误", "license activation failed", "激活失败",
]


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def search_latency(search: HybridSearch, n: int) -> dict[str, float]:
    """p50/p99 of kcrm's search per mode (embedding included); its vector scan against a numpy scan."""
    queries = [QUERIES[i % len(QUERIES)] for i in range(n)]
    full, lexical, dense_only, embed, numpy_scan, faiss_scan = [], [], [], [], [], []
    dense = search.dense
    vectors = dense.index.vectors()
    for query in queries:
        _, seconds = _timed(lambda: search.search(query, k=10))
        full.append(seconds * 1000)
        _, seconds = _timed(lambda: search.search(query, k=10, mode="lexical"))
        lexical.append(seconds * 1000)
        _, seconds = _timed(lambda: search.search(query, k=10, mode="dense"))
        dense_only.append(seconds * 1000)
        vector, seconds = _timed(lambda: dense.embedder.embed_queries([query]))
        embed.append(seconds * 1000)
        _, seconds = _timed(lambda: np.argpartition(-(vectors @ vector[0]), 50)[:50])
        numpy_scan.append(seconds * 1000)
        _, seconds = _timed(lambda: dense.index.search(vector, 50))
        faiss_scan.append(seconds * 1000)
    return {
        "search_p50_ms": _percentile(full, 50), "search_p99_ms": _percentile(full, 99),
        "lexical_p50_ms": _percentile(lexical, 50), "dense_p50_ms": _percentile(dense_only, 50),
        "embed_query_p50_ms": _percentile(embed, 50),
        "faiss_scan_p50_ms": _percentile(faiss_scan, 50), "numpy_scan_p50_ms": _percentile(numpy_scan, 50),
        "faiss_vs_numpy_scan": _percentile(numpy_scan, 50) / _percentile(faiss_scan, 50),
        "vectors": float(len(vectors)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("var/bench"))
    parser.add_argument("--bolt-port", type=int, default=27687)
    parser.add_argument("--http-port", type=int, default=27474)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir, neo4j_bolt_port=args.bolt_port, neo4j_http_port=args.http_port)
    figures: dict[str, float] = {}
    server = LocalNeo4j(settings)
    was_running = server.status().running
    server.stop()  # a cold start is one of the figures
    status, figures["neo4j_start_s"] = _timed(server.start)
    try:
        graph = workflows.open_graph(settings, start_local=False)
        with graph.driver.session() as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()
        sample = workflows.ensure_sample(settings)
        report, figures["load_s"] = _timed(lambda: workflows.load_records(settings, graph, sample))
        figures["nodes"] = float(report.nodes_written)
        figures["relationships"] = float(sum(report.relationships.values()))
        _, figures["reload_s"] = _timed(lambda: workflows.load_records(settings, graph, sample))
        figures["reload_vs_load"] = figures["reload_s"] / figures["load_s"]
        shutil.rmtree(settings.index_dir, ignore_errors=True)  # cold: nothing to reuse
        _, figures["reindex_s"] = _timed(lambda: workflows.reindex(settings, graph))
        _, figures["reindex_unchanged_s"] = _timed(lambda: workflows.reindex(settings, graph))
        figures["reindex_unchanged_vs_cold"] = figures["reindex_unchanged_s"] / figures["reindex_s"]
        search = load_search_service(settings)
        figures["items_indexed"] = float(search.item_count)
        figures["items_per_s_indexed"] = search.item_count / figures["reindex_s"]
        figures.update(search_latency(search, args.queries))
        graph.close()
    finally:
        if not was_running:  # one that ran before is left running (restarted), as ingest.py leaves it
            server.stop()
    for name, value in figures.items():
        print(f"{name:24s} {value:12.3f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
