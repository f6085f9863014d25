"""kcrm against what a user would pick instead, side by side in one run on the same data and machine.

Systems, all fed the same documents and (where dense) the same passages and vectors from kcrm's
configured embedder, so that the comparison is about retrieval and not about the model:

- `kcrm hybrid` and `kcrm bm25`: kcrm's own indexes (FAISS + its BM25, fused as the settings say).
- `neo4j-graphrag hybrid` (naive ranker, the package default) and `... linear 0.5`: Neo4j's vector
  and full-text indexes, created with `neo4j_graphrag.indexes.create_vector_index` /
  `create_fulltext_index` on Chunk nodes and queried through `HybridRetriever`, whose embedder
  wraps kcrm's. Chunks are ranked, then folded into documents (best chunk per document).
- `neo4j full-text`: the Lucene full-text index alone (`db.index.fulltext.queryNodes`).
- `bm25s` with its default tokenisation and with kcrm's terms; `rank_bm25` (BM25Okapi) with the
  whitespace split its README shows.

Quality: nDCG@10 and MRR@10 on the test judgments. Speed: one query at a time from one client
(query embedding included where a system embeds), p50/p99 latency and queries per second; index
build time without the embedding, which every dense system shares (reported once). Ratios are
against kcrm hybrid (quality and speed) in the same run. Neo4j runs as kcrm's bundled server on
its own data dir and ports, never touching a demo or test server.

    .venv/bin/pip install -e '.[bench]'   # neo4j-graphrag, bm25s, rank_bm25
    .venv/bin/python benchmarks/vs_alternatives.py --json var/bench-alt/vs_alternatives.json \\
        [--dataset ../shared/data/beir_scifact] [--dataset ../shared/data/chinese_cs_afqmc/retrieval] \\
        [--bolt-port 17752 --http-port 17753] [--limit-queries N]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from kcrm.evaluation import metrics
from kcrm.evaluation.search import BeirDataset, load_beir
from kcrm.foundation.config import Settings
from kcrm.search.chunking import chunk_text
from kcrm.search.embedder import Embedder, make_embedder
from kcrm.search.hybrid import HybridSearch, build_lexical_index
from kcrm.search.semantic import SemanticSearch
from kcrm.search.service import make_fusion
from kcrm.search.tokenizer import default_analyzer
from kcrm.search.vector_index import ChunkRecord, FaissVectorIndex

REPO = Path(__file__).resolve().parents[1]
K = 10
CHUNK_LABEL = "BenchChunk"
VECTOR_INDEX, FULLTEXT_INDEX = "bench_chunk_vectors", "bench_chunk_text"
# Lucene's query syntax characters: escaped so that a query is searched as words, as a user would.
_LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/]|&&|\|\|)')
_LUCENE_OPERATORS = re.compile(r"\b(AND|OR|NOT|TO)\b")

CREATE_CHUNKS = (f"UNWIND $rows AS row CREATE (c:{CHUNK_LABEL} {{id: row.id, doc: row.doc, text: row.text, "
                 "embedding: row.embedding})")
FULLTEXT_ALONE = ("CALL db.index.fulltext.queryNodes($index, $query, {limit: $limit}) YIELD node, score "
                  "RETURN node.doc AS doc, score")
DELETE_CHUNKS = f"MATCH (c:{CHUNK_LABEL}) CALL (c) {{ DETACH DELETE c }} IN TRANSACTIONS OF 5000 ROWS"

Searcher = Callable[[str], list[str]]


@dataclass
class Corpus:
    """One dataset cut into the passages every dense system indexes, with their vectors."""

    data: BeirDataset
    qids: list[str]
    records: list[ChunkRecord]
    vectors: np.ndarray
    embed_s: float


@dataclass
class SystemRun:
    """One system's rankings, per-query latencies and index build time."""

    name: str
    build_s: float
    runs: dict[str, list[str]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    note: str = ""

    def figures(self, qrels: dict[str, dict[str, int]]) -> dict[str, Any]:
        quality = metrics.evaluate(self.runs, qrels)
        lat = np.array(self.latencies_ms)
        return {"ndcg@10": round(quality["ndcg@10"], 4), "mrr@10": round(quality["mrr@10"], 4),
                "p50_ms": round(float(np.percentile(lat, 50)), 3), "p99_ms": round(float(np.percentile(lat, 99)), 3),
                "qps": round(1000.0 * len(lat) / float(lat.sum()), 1), "build_s": round(self.build_s, 2),
                "errors": self.errors, "note": self.note}


def prepare(directory: Path, embedder: Embedder, limit_queries: int | None) -> Corpus:
    """Read the dataset, chunk it as kcrm does and embed every passage once for all dense systems."""
    data = load_beir(directory)
    qids = sorted(q for q in data.qrels if data.queries.get(q, "").strip())[:limit_queries]
    records, texts = [], []
    for item in data.items:
        for chunk in chunk_text(item.uid, item.title, item.text):
            records.append(ChunkRecord(chunk_id=chunk.chunk_id, uid=item.uid, type=item.type, title=item.title,
                                       text=chunk.text, language=item.language, start=chunk.start, end=chunk.end))
            texts.append(chunk.embed_text)
    started = time.perf_counter()
    vectors = embedder.embed_passages(texts)
    return Corpus(data, qids, records, vectors, time.perf_counter() - started)


def run_queries(run: SystemRun, corpus: Corpus, search: Searcher, warmup: int = 5) -> SystemRun:
    """Every judged query once, timed one at a time (after a few untimed warm-up queries)."""
    for qid in corpus.qids[:warmup]:
        try:
            search(corpus.data.queries[qid])
        except Exception:  # noqa: BLE001 - counted below when it happens on the timed pass
            pass
    for qid in corpus.qids:
        started = time.perf_counter()
        try:
            ranked = search(corpus.data.queries[qid])
        except Exception:  # noqa: BLE001 - a query a system cannot answer scores zero, and is counted
            ranked = []
            run.errors += 1
        run.latencies_ms.append(1000 * (time.perf_counter() - started))
        run.runs[qid] = ranked
    return run


def dedupe(docs: Sequence[str], k: int = K) -> list[str]:
    """Document ids in first-seen order, at most k (chunks folded into their documents)."""
    out: list[str] = []
    for doc in docs:
        if doc not in out:
            out.append(doc)
            if len(out) == k:
                break
    return out


# ---------------------------------------------------------------------------------------------- kcrm


def kcrm_systems(corpus: Corpus, embedder: Embedder, settings: Settings) -> list[SystemRun]:
    """kcrm hybrid (the configured fusion) and kcrm BM25, over indexes built from the shared vectors."""
    started = time.perf_counter()
    index = FaissVectorIndex.for_embedder(embedder, expected_vectors=len(corpus.records))
    index.add(corpus.records, corpus.vectors)
    dense_s = time.perf_counter() - started
    started = time.perf_counter()
    lexical = build_lexical_index(corpus.data.items)
    lexical.search("warm up", 1)  # the inverted index is finished on first use: count it in the build
    lexical_s = time.perf_counter() - started
    search = HybridSearch(SemanticSearch(index, embedder), lexical, make_fusion(settings))
    hybrid = SystemRun("kcrm hybrid", dense_s + lexical_s, note=f"fusion {search.fusion.name}, depth {search.depth}")
    bm25 = SystemRun("kcrm bm25", lexical_s, note=default_analyzer().name)
    run_queries(hybrid, corpus, lambda q: [h.uid for h in search.search(q, K, mode="hybrid")])
    run_queries(bm25, corpus, lambda q: [h.uid for h in search.search(q, K, mode="lexical")])
    return [hybrid, bm25]


# ---------------------------------------------------------------------------------------------- Neo4j


def lucene_escape(text: str) -> str:
    """The query as plain words for Lucene's parser (unescaped, 'p53-mediated (NF-kB)' is an error)."""
    return _LUCENE_OPERATORS.sub(lambda m: m.group(1).lower(), _LUCENE_SPECIAL.sub(r"\\\1", text))


def graphrag_embedder(embedder: Embedder):  # type: ignore[no-untyped-def]
    """A neo4j-graphrag Embedder that asks kcrm's embedder, so both sides use the same model."""
    from neo4j_graphrag.embeddings.base import Embedder as GraphragEmbedder

    class KcrmEmbedder(GraphragEmbedder):
        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_queries([text])[0].tolist()

    return KcrmEmbedder()


def delete_chunks(driver: Any) -> None:
    """Remove the previous dataset's chunks (CALL IN TRANSACTIONS needs an auto-commit transaction)."""
    with driver.session() as session:
        session.run(DELETE_CHUNKS).consume()


def neo4j_load(driver: Any, corpus: Corpus, dim: int, batch: int = 1000) -> float:
    """Chunk nodes with text and vector, then both indexes (graphrag helpers), online; seconds taken."""
    from neo4j_graphrag.indexes import create_fulltext_index, create_vector_index, drop_index_if_exists

    for name in (VECTOR_INDEX, FULLTEXT_INDEX):
        drop_index_if_exists(driver, name)
    delete_chunks(driver)
    started = time.perf_counter()
    for start in range(0, len(corpus.records), batch):
        rows = [{"id": r.chunk_id, "doc": r.uid, "text": f"{r.title}\n{r.text}" if r.title else r.text,
                 "embedding": corpus.vectors[start + i].tolist()}
                for i, r in enumerate(corpus.records[start:start + batch])]
        driver.execute_query(CREATE_CHUNKS, rows=rows)
    create_vector_index(driver, VECTOR_INDEX, label=CHUNK_LABEL, embedding_property="embedding",
                        dimensions=dim, similarity_fn="cosine")
    create_fulltext_index(driver, FULLTEXT_INDEX, label=CHUNK_LABEL, node_properties=["text"])
    driver.execute_query("CALL db.awaitIndexes(600)")
    return time.perf_counter() - started


def neo4j_systems(corpus: Corpus, embedder: Embedder, driver: Any) -> list[SystemRun]:
    """neo4j-graphrag's HybridRetriever (naive and linear rankers) and the full-text index alone."""
    from neo4j_graphrag.retrievers import HybridRetriever

    build_s = neo4j_load(driver, corpus, embedder.dim)
    retriever = HybridRetriever(driver, VECTOR_INDEX, FULLTEXT_INDEX, graphrag_embedder(embedder),
                                return_properties=["doc"])
    # Chunks come back, not documents: ask for 3x as many and fold them, as kcrm does inside.
    fetch = 3 * K

    def hybrid(query: str, **ranker: Any) -> list[str]:
        result = retriever.get_search_results(query_text=lucene_escape(query), top_k=fetch, **ranker)
        return dedupe([record["node"]["doc"] for record in result.records])

    def fulltext(query: str) -> list[str]:
        records, _, _ = driver.execute_query(FULLTEXT_ALONE, index=FULLTEXT_INDEX, query=lucene_escape(query),
                                             limit=fetch)
        return dedupe([record["doc"] for record in records])

    version = metadata.version("neo4j-graphrag")
    naive = SystemRun("neo4j-graphrag hybrid", build_s, note=f"neo4j-graphrag {version}, ranker naive (default)")
    linear = SystemRun("neo4j-graphrag hybrid linear", build_s, note="ranker linear, alpha 0.5")
    alone = SystemRun("neo4j full-text", build_s, note="Lucene standard analyzer, BM25")
    run_queries(naive, corpus, hybrid)
    run_queries(linear, corpus, lambda q: hybrid(q, ranker="linear", alpha=0.5))
    run_queries(alone, corpus, fulltext)
    return [naive, linear, alone]


# ---------------------------------------------------------------------------------------------- BM25 libraries


def _doc_texts(corpus: Corpus) -> tuple[list[str], list[str]]:
    return [item.uid for item in corpus.data.items], [f"{item.title}\n{item.text}" for item in corpus.data.items]


def bm25s_systems(corpus: Corpus) -> list[SystemRun]:
    """bm25s with its own default tokenisation, and with kcrm's analyzer terms (same as kcrm bm25)."""
    import bm25s

    uids, texts = _doc_texts(corpus)
    analyzer = default_analyzer()
    out = []
    for name, tokenise in (("bm25s (default tokeniser)", None), ("bm25s (kcrm terms)", analyzer.terms)):
        started = time.perf_counter()
        retriever = bm25s.BM25()
        if tokenise is None:
            retriever.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
        else:
            retriever.index([tokenise(t) for t in texts], show_progress=False)
        run = SystemRun(name, time.perf_counter() - started, note=f"bm25s {metadata.version('bm25s')}, "
                        + ("bm25s.tokenize defaults" if tokenise is None else analyzer.name))

        def search(query: str, retriever: Any = retriever, tokenise: Any = tokenise) -> list[str]:
            if tokenise is None:
                tokens = bm25s.tokenize([query], show_progress=False)
                if not tokens.vocab:
                    return []
                docs, _ = retriever.retrieve(tokens, k=K, show_progress=False)
            else:
                terms = [t for t in tokenise(query) if t in retriever.vocab_dict]
                if not terms:
                    return []
                docs, _ = retriever.retrieve([terms], k=K, show_progress=False)
            return [uids[i] for i in docs[0].tolist()]

        out.append(run_queries(run, corpus, search))
    return out


def rank_bm25_system(corpus: Corpus) -> SystemRun:
    """rank_bm25's BM25Okapi on lowercased whitespace tokens, as its README shows."""
    from rank_bm25 import BM25Okapi

    uids, texts = _doc_texts(corpus)
    started = time.perf_counter()
    bm25 = BM25Okapi([t.lower().split() for t in texts])
    run = SystemRun("rank_bm25", time.perf_counter() - started, note=f"rank_bm25 {metadata.version('rank_bm25')}, "
                    "BM25Okapi, str.lower().split()")

    def search(query: str) -> list[str]:
        scores = bm25.get_scores(query.lower().split())
        top = np.argsort(-scores)[:K]
        return [uids[i] for i in top.tolist() if scores[i] > 0]

    return run_queries(run, corpus, search)


# ---------------------------------------------------------------------------------------------- report


def with_ratios(rows: dict[str, dict[str, Any]], base: str = "kcrm hybrid") -> dict[str, dict[str, Any]]:
    """Each row's quality and speed as a ratio of kcrm hybrid's (>1: better for quality and qps)."""
    ref = rows[base]
    for row in rows.values():
        row["ratio_vs_kcrm_hybrid"] = {
            key: round(row[key] / ref[key], 3) if ref[key] else None
            for key in ("ndcg@10", "mrr@10", "p50_ms", "qps", "build_s")}
    return rows


def table(name: str, corpus: Corpus, rows: dict[str, dict[str, Any]]) -> str:
    head = (f"{name}: {len(corpus.data.items)} documents ({len(corpus.records)} passages, embedded once in "
            f"{corpus.embed_s:.1f} s), {len(corpus.qids)} queries, k={K}")
    lines = [head, f"{'system':<30} {'nDCG@10':>8} {'MRR@10':>7} {'p50 ms':>8} {'p99 ms':>8} {'q/s':>7} "
                   f"{'build s':>8} {'nDCG x':>7} {'q/s x':>7}"]
    for system, r in rows.items():
        ratio = r["ratio_vs_kcrm_hybrid"]
        lines.append(f"{system:<30} {r['ndcg@10']:>8.3f} {r['mrr@10']:>7.3f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
                     f"{r['qps']:>7.0f} {r['build_s']:>8.2f} {ratio['ndcg@10']:>7.2f} {ratio['qps']:>7.2f}"
                     + (f"  ({r['errors']} errors)" if r["errors"] else ""))
    return "\n".join(lines)


def start_neo4j(args: argparse.Namespace) -> tuple[Any, Any, Settings]:
    """kcrm's bundled Neo4j on this benchmark's own data dir and ports, and a driver to it."""
    from neo4j import GraphDatabase

    from kcrm.kg.server import LocalNeo4j

    settings = Settings(data_dir=args.data_dir, neo4j_uri=None, neo4j_bolt_port=args.bolt_port,
                        neo4j_http_port=args.http_port, neo4j_heap=args.heap, neo4j_pagecache=args.pagecache)
    server = LocalNeo4j(settings)
    status = server.start()
    driver = GraphDatabase.driver(status.bolt_uri, auth=(settings.neo4j_user, settings.neo4j_password))
    return server, driver, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, action="append",
                        help="BEIR folder (repeatable; default ../shared/data/beir_scifact)")
    parser.add_argument("--limit-queries", type=int, default=None, help="Only the first N judged queries.")
    parser.add_argument("--json", type=Path, default=REPO / "var" / "bench-alt" / "vs_alternatives.json")
    parser.add_argument("--data-dir", type=Path, default=REPO / "var" / "bench-alt")
    parser.add_argument("--bolt-port", type=int, default=17752)
    parser.add_argument("--http-port", type=int, default=17753)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--pagecache", default="512m")
    parser.add_argument("--keep-neo4j", action="store_true", help="Leave the benchmark's Neo4j running.")
    args = parser.parse_args()
    datasets = args.dataset or [REPO.parent / "shared" / "data" / "beir_scifact"]

    settings = Settings()
    embedder = make_embedder(settings)
    server, driver, neo_settings = start_neo4j(args)
    report: dict[str, Any] = {
        "command": "python benchmarks/vs_alternatives.py " + " ".join(f"--dataset {d}" for d in datasets),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": __import__("os").cpu_count()},
        "embedder": embedder.name, "k": K, "datasets": {}}
    try:
        for directory in datasets:
            corpus = prepare(directory, embedder, args.limit_queries)
            systems = kcrm_systems(corpus, embedder, settings)
            for name, alternative in (("neo4j-graphrag", lambda: neo4j_systems(corpus, embedder, driver)),
                                      ("bm25s", lambda: bm25s_systems(corpus)),
                                      ("rank_bm25", lambda: [rank_bm25_system(corpus)])):
                try:
                    systems += alternative()
                except ImportError as exc:  # the alternatives come with `pip install -e '.[bench]'`
                    report.setdefault("skipped", {})[name] = str(exc)
                    print(f"{name} skipped: {exc} (pip install -e '.[bench]')", flush=True)
            qrels = {q: corpus.data.qrels[q] for q in corpus.qids}
            rows = with_ratios({s.name: s.figures(qrels) for s in systems})
            name = f"{directory.parent.name}/{directory.name}" if directory.name == "retrieval" else directory.name
            print(table(name, corpus, rows), flush=True)
            report["datasets"][name] = {
                "documents": len(corpus.data.items), "passages": len(corpus.records), "queries": len(corpus.qids),
                "embedding_s": round(corpus.embed_s, 2), "systems": rows}
            delete_chunks(driver)
    finally:
        driver.close()
        if not args.keep_neo4j:
            server.stop()
    report["neo4j"] = {"bolt_port": neo_settings.neo4j_bolt_port, "heap": neo_settings.neo4j_heap,
                       "pagecache": neo_settings.neo4j_pagecache}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
