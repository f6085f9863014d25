"""Which BM25 engine backs kcrm's lexical index: its own numpy index, bm25s or tantivy, measured.

All three get the same terms (kcrm's analyzer runs once, up front), so the comparison is of the
engines alone: ranking quality on SciFact (nDCG@10, Recall@100), build time, and query latency
(p50/p99, one query at a time) on SciFact and on a synthetic 100k-document corpus built from
SciFact sentences. bm25s and tantivy are optional here (`pip install bm25s tantivy`); an engine
that is not installed is reported as skipped.

    .venv/bin/python benchmarks/lexical_engines.py [--dataset ../shared/data/beir_scifact] [--docs 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kcrm.evaluation import metrics
from kcrm.evaluation.search import load_beir
from kcrm.search.lexical import BM25Index
from kcrm.search.tokenizer import default_analyzer
from kcrm.search.vector_index import ChunkRecord

Docs = list[list[str]]
Engine = Callable[[Docs], Callable[[list[str], int], list[int]]]


class _Pretokenized:
    """An analyzer that splits on spaces: the terms were produced once by kcrm's analyzer."""

    name = "pretokenized"

    def terms(self, text: str) -> list[str]:
        return text.split()


def kcrm_engine(docs: Docs) -> Callable[[list[str], int], list[int]]:
    index = BM25Index(_Pretokenized())
    index.add([ChunkRecord(str(i), str(i), "Document", "", " ".join(d), "en") for i, d in enumerate(docs)])
    index.search("warm", 1)  # builds the inverted index now, not in the first query
    return lambda query, k: [int(h.record.uid) for h in index.search(" ".join(query), k)]


def bm25s_engine(docs: Docs) -> Callable[[list[str], int], list[int]]:
    import bm25s

    retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    retriever.index(docs, show_progress=False)

    def search(query: list[str], k: int) -> list[int]:
        known = [t for t in query if t in retriever.vocab_dict] or ["\x00"]
        if known == ["\x00"]:
            return []
        ids, scores = retriever.retrieve([known], k=min(k, len(docs)), show_progress=False, n_threads=1)
        return [int(i) for i, s in zip(ids[0], scores[0]) if s > 0]

    return search


def tantivy_engine(docs: Docs) -> Callable[[list[str], int], list[int]]:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
    builder.add_unsigned_field("id", stored=True, fast=True)
    schema = builder.build()
    directory = tempfile.mkdtemp(prefix="kcrm-tantivy-")
    index = tantivy.Index(schema, path=directory)
    writer = index.writer(heap_size=200_000_000, num_threads=1)
    for i, doc in enumerate(docs):
        document = tantivy.Document()
        document.add_text("body", " ".join(doc))
        document.add_unsigned("id", i)
        writer.add_document(document)
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()

    def search(query: list[str], k: int) -> list[int]:
        if not query:
            return []
        parsed = index.parse_query(" ".join(f'"{t}"' for t in query), ["body"])
        hits = searcher.search(parsed, k).hits
        return [searcher.doc(address)["id"][0] for _, address in hits]

    return search


ENGINES: dict[str, Engine] = {"kcrm-numpy": kcrm_engine, "bm25s": bm25s_engine, "tantivy": tantivy_engine}


def synthetic_corpus(docs: Docs, n: int, seed: int = 7) -> Docs:
    """`n` documents of 40-200 terms drawn from real documents' term sequences."""
    rng = random.Random(seed)
    pool = [t for d in docs for t in d]
    out = []
    for _ in range(n):
        start = rng.randrange(len(pool))
        length = rng.randint(40, 200)
        out.append(pool[start:start + length] or pool[:length])
    return out


def latency(search: Callable[[list[str], int], list[int]], queries: list[list[str]], k: int) -> dict[str, float]:
    times = []
    for query in queries:
        started = time.perf_counter()
        search(query, k)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 3), "p99_ms": round(float(np.percentile(times, 99)), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/beir_scifact")
    parser.add_argument("--docs", type=int, default=100_000, help="size of the synthetic corpus for latency")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    dataset = load_beir(args.dataset)
    analyzer = default_analyzer()
    docs = [analyzer.terms(f"{item.title}\n{item.text}") for item in dataset.items]
    ids = [item.uid for item in dataset.items]
    qids = sorted(dataset.qrels)
    queries = [analyzer.terms(dataset.queries[q]) for q in qids]
    big = synthetic_corpus(docs, args.docs)
    results: dict[str, dict[str, object]] = {}
    for name, make in ENGINES.items():
        try:
            started = time.perf_counter()
            search = make(docs)
        except ImportError as exc:
            results[name] = {"skipped": str(exc)}
            print(f"{name:<11} skipped: {exc}")
            continue
        build_s = time.perf_counter() - started
        run = {q: [ids[i] for i in search(query, 100)] for q, query in zip(qids, queries)}
        quality = metrics.evaluate(run, dataset.qrels)
        small = latency(search, queries, 100)
        started = time.perf_counter()
        big_search = make(big)
        big_build_s = time.perf_counter() - started
        large = latency(big_search, queries, 100)
        results[name] = {"ndcg@10": round(quality["ndcg@10"], 4), "recall@100": round(quality["recall@100"], 4),
                         "build_s": round(build_s, 2), "scifact": small,
                         f"build_{args.docs}_s": round(big_build_s, 2), f"docs_{args.docs}": large}
        print(f"{name:<11} nDCG@10 {quality['ndcg@10']:.4f} R@100 {quality['recall@100']:.4f} | "
              f"SciFact ({len(docs)} docs) build {build_s:.2f} s, p50 {small['p50_ms']} ms p99 {small['p99_ms']} ms | "
              f"{args.docs} docs build {big_build_s:.1f} s, p50 {large['p50_ms']} ms p99 {large['p99_ms']} ms", flush=True)
    base = results.get("kcrm-numpy", {}).get(f"docs_{args.docs}")
    for name, row in results.items():
        other = row.get(f"docs_{args.docs}")
        if base and other and name != "kcrm-numpy":
            print(f"p50 at {args.docs} docs, {name} / kcrm-numpy: {other['p50_ms'] / base['p50_ms']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
