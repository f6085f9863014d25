"""The same queries on the same corpus: kcrm's local engine (BM25 + FAISS in process) beside the
opensearch backend (a cluster started by `kcrm opensearch start`).

Corpus: SciFact's real abstracts (../shared/data/beir_scifact), copied until the corpus holds
`--chunks` passages (kcrm's own chunker, so both engines index identical items and chunks), with
facet fields (status, priority, product) and dates drawn from a fixed seed. Vectors: the
`hashing` embedder (documented synthetic vectors: the right shape and cost, not meaning), so that
embedding 100k passages does not dominate the run; query embedding is done once per query,
outside the timings, for both engines.

Per engine, in one run: index build time; retrieval latency p50/p99 (hybrid candidates, depth
100) without and with facets (the local side counts with its FacetTable, OpenSearch with a
size-0 aggregation query); throughput at 1/4/8 concurrent client threads; resident memory (this
process's growth for local, the cluster nodes' RSS for OpenSearch). For OpenSearch the
server-side `took` is reported beside the client-side time. HTTP throughput through `kcrm serve`
is not measured here: it needs the API to serve from the backend factory (see docs/scale-out.md).

    .venv/bin/kcrm opensearch start --nodes 3
    .venv/bin/python benchmarks/opensearch_vs_local.py [--chunks 100000] [--queries 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
import time
from pathlib import Path

import numpy as np

from kcrm.foundation.config import Settings
from kcrm.kg.processes import process_alive
from kcrm.search.contract import Retrieve
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.facets import FacetTable
from kcrm.search.filters import SearchFilter, make_filter
from kcrm.search.lexical import BM25Index
from kcrm.search.opensearch_backend import OpenSearchBackend, chunk_records, item_record
from kcrm.search.opensearch_server import LocalOpenSearch
from kcrm.search.types import IndexItem
from kcrm.search.vector_index import FaissVectorIndex

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "beir_scifact"
DEPTH = 100


def corpus(target_chunks: int, seed: int = 7) -> tuple[list[IndexItem], list[str]]:
    """SciFact items copied until `target_chunks` passages; and the SciFact queries."""
    rng = random.Random(seed)
    rows = [json.loads(line) for line in (SCIFACT / "corpus.jsonl").read_text().splitlines()]
    queries = [json.loads(line)["text"] for line in (SCIFACT / "queries.jsonl").read_text().splitlines()]
    items: list[IndexItem] = []
    chunks = 0
    copy = 0
    while chunks < target_chunks:
        for row in rows:
            meta = {"status": rng.choice(["open", "closed", "pending"]), "priority": rng.choice(["low", "high"]),
                    "product": rng.choice(["Skylark X200 Router", "Inkjet P5", "Cloud Suite"]),
                    "openedAt": f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}
            item = IndexItem(f"{row['_id']}-{copy}", "Document", row.get("title", ""), row["text"], "en", meta)
            items.append(item)
            chunks += len(chunk_records(item)[0])
            if chunks >= target_chunks:
                break
        copy += 1
    return items, queries


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.array(values)
    return {"p50_ms": round(float(np.percentile(array, 50)), 2), "p99_ms": round(float(np.percentile(array, 99)), 2)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Local:
    """kcrm's in-process engine over the same records: BM25, FAISS (exact), FacetTable."""

    def __init__(self, items: list[IndexItem], embedder: HashingEmbedder) -> None:
        started = time.perf_counter()
        records = [item_record(item) for item in items]
        self.lexical = BM25Index()
        for start in range(0, len(records), 5000):
            self.lexical.add(records[start:start + 5000])
        self.lexical.scores("warm up")
        self.dense = FaissVectorIndex(embedder.dim, embedder.name, "flat")
        batch_records, batch_texts = [], []
        for item in items:
            chunk, texts = chunk_records(item)
            batch_records += chunk
            batch_texts += texts
            if len(batch_texts) >= 2000:
                self.dense.add(batch_records, embedder.embed_passages(batch_texts))
                batch_records, batch_texts = [], []
        if batch_texts:
            self.dense.add(batch_records, embedder.embed_passages(batch_texts))
        self.table = FacetTable(self.lexical.records())
        self.uid_sets: dict[str, set[str]] = {}
        self.build_s = time.perf_counter() - started

    def retrieve(self, text: str, vector: np.ndarray, flt: SearchFilter, facets: bool) -> int:
        allowed = self.table.mask(flt)
        scores = self.lexical.scores(text)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        lexical = self.lexical.top(scores, DEPTH)
        uids = None
        if allowed is not None:  # as HybridSearch does: the filter's items, inside FAISS
            key = repr(flt)
            if key not in self.uid_sets:
                self.uid_sets[key] = {self.table.uids[row] for row in np.flatnonzero(allowed).tolist()}
            uids = self.uid_sets[key]
        dense = self.dense.search(vector, DEPTH * 4, None, uids)
        if facets:
            rows = np.flatnonzero(scores > 0)
            self.table.counts(rows)
        return len(lexical) + len(dense)


def timed(call, queries: list[tuple[str, np.ndarray]], flt: SearchFilter, facets: bool) -> list[float]:
    times = []
    for text, vector in queries:
        started = time.perf_counter()
        call(text, vector, flt, facets)
        times.append((time.perf_counter() - started) * 1000)
    return times


def throughput(call, queries: list[tuple[str, np.ndarray]], clients: int, seconds: float) -> float:
    done = [0] * clients
    stop = time.monotonic() + seconds

    def worker(slot: int) -> None:
        i = slot
        while time.monotonic() < stop:
            text, vector = queries[i % len(queries)]
            call(text, vector, SearchFilter(), True)
            done[slot] += 1
            i += clients

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return round(sum(done) / seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0, help="per throughput measurement")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    settings = Settings(opensearch_index="kcrm-bench")
    embedder = HashingEmbedder(dim=384)
    items, texts = corpus(args.chunks)
    queries = [(t, embedder.embed_queries([t])[0]) for t in texts[:args.queries]]
    flt = make_filter({"status": ["open"]})
    print(f"corpus: {len(items)} items, >= {args.chunks} chunks; {len(queries)} SciFact queries")

    before = rss_mb(os.getpid())
    local = Local(items, embedder)
    local_rss = rss_mb(os.getpid()) - before

    backend = OpenSearchBackend(settings, embedder)
    started = time.perf_counter()
    backend.rebuild(items)
    os_build = time.perf_counter() - started
    took: list[int] = []
    original = backend.index._search  # noqa: SLF001 - the benchmark records the server's own `took`

    def recording(body, dfs=False):  # type: ignore[no-untyped-def]
        answer = original(body, dfs)
        took.append(int(answer.get("took", 0)))
        return answer

    backend.index._search = recording  # type: ignore[method-assign]  # noqa: SLF001

    def remote(text: str, vector: np.ndarray, filters: SearchFilter, facets: bool) -> int:
        answer = backend.retrieve(Retrieve(text=text, mode="hybrid", depth=DEPTH, filters=filters, groups=None,
                                           facets=facets))
        return answer.total

    backend.embedder = _Fixed(dict(queries), embedder)  # query vectors computed above, for both engines

    results: dict[str, dict] = {"local": {"build_s": round(local.build_s, 1), "rss_mb": round(local_rss)},
                                "opensearch": {"build_s": round(os_build, 1)}}
    for name, call in (("local", local.retrieve), ("opensearch", remote)):
        for facets in (False, True):
            took.clear()
            times = timed(call, queries, flt, facets)
            key = "facets" if facets else "no_facets"
            results[name][key] = percentiles(times)
            if name == "opensearch":
                results[name][key]["server_took_sum_ms_mean"] = round(sum(took) / max(1, len(queries)), 2)
        for clients in (1, 4, 8):
            results[name][f"qps_{clients}"] = throughput(call, queries, clients, args.seconds)
    status = LocalOpenSearch(settings).status()
    results["opensearch"]["rss_mb"] = round(sum(rss_mb(n.pid) for n in status.nodes if n.pid and process_alive(n.pid)))
    results["opensearch"]["nodes"] = sum(1 for n in status.nodes if n.running)
    backend.index.drop(backend.index.live())
    for name, figures in results.items():
        print(name, json.dumps(figures))
    for key in ("no_facets", "facets"):
        ratio = results["opensearch"][key]["p50_ms"] / max(results["local"][key]["p50_ms"], 1e-6)
        print(f"p50 {key}: opensearch / local = {ratio:.1f}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"chunks": args.chunks, "items": len(items), **results}, indent=2))


class _Fixed:
    """An embedder that answers the benchmark's queries from precomputed vectors."""

    def __init__(self, vectors: dict[str, np.ndarray], fallback: HashingEmbedder) -> None:
        self.vectors, self.fallback = vectors, fallback
        self.name, self.dim = fallback.name, fallback.dim

    def embed_queries(self, texts):  # type: ignore[no-untyped-def]
        return np.stack([self.vectors.get(t, self.fallback.embed_queries([t])[0]) for t in texts])

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        return self.fallback.embed_passages(texts)


if __name__ == "__main__":
    main()
