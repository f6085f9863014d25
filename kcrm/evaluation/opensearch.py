"""`kcrm eval search --backend opensearch`: the same judged queries through the local engine and the
OpenSearch backend, in one run, with kcrm's fusion on top of each engine's candidates.

Why one run: the bar is "within 0.01 of local", so both sides must use the same corpus, the same
queries, the same chunks and the same vectors. Passages are embedded once (a memo shared by both
builds), the lexical side of both indexes the same analysed terms, and each query's two candidate
lists are ranked by `ranking.rank` with the same `Fusion`, the path `/v1/search` serves. Rows `bm25`, `dense`, `hybrid` are local; `os-bm25`,
`os-dense`, `os-hybrid` the cluster's; `config.delta` is OpenSearch minus local per metric.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from kcrm.evaluation import metrics
from kcrm.evaluation.search import BeirDataset, EvalReport, build_indexes, ranked
from kcrm.foundation.config import Settings
from kcrm.search.contract import Retrieve
from kcrm.search.embedder import Embedder
from kcrm.search.filters import SearchFilter
from kcrm.search.fusion import Fusion
from kcrm.search.opensearch_backend import OpenSearchBackend
from kcrm.search.tokenizer import default_analyzer

log = logging.getLogger(__name__)


class MemoEmbedder:
    """Embeds each distinct passage once, so the two engines index the very same vectors."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self._passages: dict[str, np.ndarray] = {}

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._passages]
        if missing:
            for text, vector in zip(missing, self.inner.embed_passages(missing), strict=True):
                self._passages[text] = vector
        return np.stack([self._passages[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def evaluate_opensearch(dataset: BeirDataset, embedder: Embedder, settings: Settings, fusion: Fusion,
                        depth: int = 100, limit_queries: int | None = None, progress: bool = False) -> EvalReport:
    """Score local and OpenSearch retrieval on the same judged queries (see the module docstring)."""
    memo = MemoEmbedder(embedder)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kcrm-eval-") as scratch:
        local = build_indexes(dataset, memo, default_analyzer(), Path(scratch), progress, fusion)
    timings["index_local"] = time.perf_counter() - started
    eval_settings = settings.model_copy(update={"opensearch_index": f"kcrm-eval-{dataset.fingerprint()[:12]}"})
    backend = OpenSearchBackend(eval_settings, memo)
    started = time.perf_counter()
    generation = backend.rebuild(dataset.items)
    timings["index_opensearch"] = time.perf_counter() - started
    qids = sorted(dataset.qrels)[:limit_queries] if limit_queries else sorted(dataset.qrels)
    runs: dict[str, dict[str, list[str]]] = {name: {} for name in
                                             ("bm25", "dense", "hybrid", "os-bm25", "os-dense", "os-hybrid")}
    started = time.perf_counter()
    try:
        for qid in tqdm(qids, unit="query", desc="searching", disable=not progress):
            text = dataset.queries[qid].strip()
            if not text:
                continue
            request = Retrieve(text=text, mode="hybrid", depth=depth, filters=SearchFilter(), groups=None)
            for prefix, retrieval in (("", local.backend.retrieve(request)), ("os-", backend.retrieve(request))):
                runs[f"{prefix}bm25"][qid] = ranked(retrieval, text, "lexical", fusion)
                runs[f"{prefix}dense"][qid] = ranked(retrieval, text, "dense", fusion)
                runs[f"{prefix}hybrid"][qid] = ranked(retrieval, text, "hybrid", fusion)[:depth]
    finally:
        backend.index.drop(generation)
        backend.close()
    timings["search"] = time.perf_counter() - started
    qrels = {q: dataset.qrels[q] for q in qids}
    results = {name: metrics.evaluate(run, qrels) for name, run in runs.items()}
    delta: dict[str, Any] = {
        row: {metric: round(results[f"os-{row}"][metric] - results[row][metric], 4) for metric in results[row]}
        for row in ("bm25", "dense", "hybrid")}
    config = {"embedder": embedder.name, "depth": depth, "hybrid": fusion.name, "backend": "opensearch",
              "opensearch": eval_settings.opensearch_endpoint, "delta": delta}
    return EvalReport(dataset=dataset.name, documents=len(dataset.items), chunks=local.chunk_count, queries=len(qids),
                      results=results, config=config, timings_s={k: round(v, 2) for k, v in timings.items()})
