"""The `opensearch` search backend: the search contract over an OpenSearch cluster.

Why: `KCRM_SEARCH_BACKEND=opensearch` moves the derived index into a cluster (replicas, shards,
more than one machine) while ranking stays kcrm's: the engine returns BM25 and kNN candidates,
match counts and facets with filters and access groups applied inside its queries
(`opensearch_index`), and kcrm's ranking layer fuses, expands, corrects spelling and explains
on top, exactly as for the local backend. Query and passage embeddings are kcrm's embedder's.

Differences from the local backend, stated rather than hidden:
- BM25: the engine picks twice `depth` candidates with the filter and access rule inside its
  query, and kcrm rescores them with its own formula over the caller's view (visible items'
  count, document frequencies and average length, from one aggregation request), so scores are
  the local backend's, restricted items leave no trace in them, and Lucene's one-byte length
  norms do not matter. An item the engine's global statistics ranked below the 2 x depth cut
  cannot come back; on the data measured this never changed a top 10.
- Expansion terms are scored by one extra BM25 query and scaled as the local backend does
  (best expansion match = `weight` times the best own-word match); the local backend's
  per-language rank placement is not reproduced.
- The spelling vocabulary and explain's term weights are computed by kcrm from what the caller
  may see (texts scanned from the cluster once per group set, statistics by count queries).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import IndexIncompatible
from kcrm.search.chunking import chunk_text
from kcrm.search.contract import Browsed, Candidates, Capabilities, Retrieval, Retrieve
from kcrm.search.embedder import Embedder, make_embedder
from kcrm.search.expansion import Expansion
from kcrm.search.filters import SearchFilter
from kcrm.search.lexical import DEFAULT_B, DEFAULT_K1
from kcrm.search.opensearch_index import OpenSearchIndex
from kcrm.search.spelling import RARE, SpellingCorrector, corrector_for
from kcrm.search.types import ChunkHit, ChunkRecord, IndexItem

log = logging.getLogger(__name__)

EMBED_BATCH = 256
SCALE = DEFAULT_K1 + 1.0
"""kcrm's BM25 keeps the (k1 + 1) numerator that Lucene's drops."""


def item_record(item: IndexItem) -> ChunkRecord:
    """The whole item as one lexical record (title + text), as the local BM25 index holds it."""
    return ChunkRecord(chunk_id=item.uid, uid=item.uid, type=item.type, title=item.title, text=item.text,
                       language=item.language, meta=dict(item.meta), start=0, end=len(item.text))


def chunk_records(item: IndexItem) -> tuple[list[ChunkRecord], list[str]]:
    """The item's passages (kcrm's chunker) and the texts to embed, as the local dense index has them."""
    records, texts = [], []
    for chunk in chunk_text(item.uid, item.title, item.text):
        records.append(ChunkRecord(chunk_id=chunk.chunk_id, uid=item.uid, type=item.type, title=item.title,
                                   text=chunk.text, language=item.language, meta=dict(item.meta),
                                   start=chunk.start, end=chunk.end))
        texts.append(chunk.embed_text)
    return records, texts


def embedded_batches(items: Iterable[IndexItem], embedder: Embedder,
                     batch: int = EMBED_BATCH) -> Iterator[tuple[list[ChunkRecord], list[ChunkRecord], np.ndarray]]:
    """(items, chunks, vectors) in batches of about `batch` passages; a repeated uid keeps its first."""
    seen: set[str] = set()
    items_out: list[ChunkRecord] = []
    chunks: list[ChunkRecord] = []
    texts: list[str] = []
    for item in items:
        if item.uid in seen:
            continue
        seen.add(item.uid)
        items_out.append(item_record(item))
        records, passages = chunk_records(item)
        chunks.extend(records)
        texts.extend(passages)
        if len(texts) >= batch:
            yield items_out, chunks, embedder.embed_passages(texts)
            items_out, chunks, texts = [], [], []
    if items_out:
        yield items_out, chunks, embedder.embed_passages(texts) if texts else np.zeros((0, embedder.dim), "float32")


class OpenSearchBackend:
    """`SearchBackend` over the generation behind `settings.opensearch_index`."""

    name = "opensearch"
    capabilities = Capabilities(expansion=True, spelling=True, explain=True, incremental=True)

    def __init__(self, settings: Settings, embedder: Embedder, index: OpenSearchIndex | None = None,
                 ephemeral: bool = False) -> None:
        self.settings = settings
        self.ephemeral = ephemeral  # drop the generation on close (tests and evaluations)
        self.embedder = embedder
        self.index = index or OpenSearchIndex(settings)
        self._spellers: dict[tuple[str, frozenset[str] | None], SpellingCorrector] = {}
        self._lock = threading.Lock()

    @property
    def generation(self) -> str | None:
        """The index generation served: the name the alias points at."""
        return self.index.current_index()

    # ----------------------------------------------------------------- building

    def rebuild(self, items: Iterable[IndexItem]) -> str:
        """Index every item into a new generation and switch the alias to it; returns its name."""
        name = self.index.create_generation(self.embedder.dim, self.embedder.name)
        try:
            for batch_items, chunks, vectors in embedded_batches(items, self.embedder):
                self.index.write(name, batch_items, chunks, vectors)
            self.index.publish(name)
        except Exception:
            self.index.drop(name)
            raise
        self._spellers.clear()
        return name

    def check_compatible(self) -> None:
        """`IndexIncompatible` when the live generation was embedded by another model."""
        meta = self.index.meta()
        if meta.get("embedder") != self.embedder.name or meta.get("dim") != self.embedder.dim:
            raise IndexIncompatible(f"the OpenSearch index {self.index.alias!r} was built with "
                                    f"{meta.get('embedder')!r} ({meta.get('dim')}-d) but the embedder is "
                                    f"{self.embedder.name!r} ({self.embedder.dim}-d): run `kcrm reindex`")

    # ----------------------------------------------------------------- retrieval

    def analyze(self, text: str) -> list[str]:
        return self.index.analyzer.terms(text)

    def _own_weights(self, text: str) -> dict[str, float]:
        return {term: 1.0 for term in self.analyze(text)}

    def _lexical(self, text: str, expansion: Expansion | None, depth: int, flt: SearchFilter,
                 groups: frozenset[str] | None) -> tuple[list[ChunkHit], dict[str, float]]:
        """BM25 candidates scored over the caller's view, expansion terms scaled as locally."""
        own = self._own_weights(text)
        hits = self._view_bm25(own, depth, flt, groups)
        extra = {t: 1.0 for t in (expansion.terms if expansion else ()) if t not in own}
        if not extra or expansion is None:
            return hits, own
        added = self._view_bm25(extra, depth, flt, groups)
        best_own = hits[0].score if hits else 1.0
        best_extra = added[0].score if added and added[0].score > 0 else 1.0
        scores = {h.record.uid: h.score for h in hits}
        records = {h.record.uid: h.record for h in (*hits, *added)}
        for hit in added:
            scores[hit.record.uid] = scores.get(hit.record.uid, 0.0) + expansion.weight * best_own * (
                hit.score / best_extra)
        ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))[:depth]
        return [ChunkHit(records[uid], score) for uid, score in ranked], {**own, **extra}

    def _view_bm25(self, terms: dict[str, float], depth: int, flt: SearchFilter,
                   groups: frozenset[str] | None) -> list[ChunkHit]:
        """The engine's candidates (twice `depth`), rescored by kcrm's BM25 over what `groups` may see.

        The engine's own statistics count every document, restricted ones included; rescoring
        with the caller's N, document frequencies and average length makes an outsider's scores
        those of an index without the items it may not see (the contract's "as if they did not
        exist"), and uses exact document lengths where Lucene keeps one byte.
        """
        candidates, _ = self.index.lexical(terms, 2 * depth, flt, groups)
        if not candidates:
            return []
        n_docs, avgdl, frequencies = self.index.term_statistics(list(terms), groups)
        scored = [ChunkHit(hit.record, self._bm25(hit.record, terms, n_docs, avgdl, frequencies))
                  for hit in candidates]
        scored.sort(key=lambda hit: (-hit.score, hit.record.uid))
        return scored[:depth]

    def _bm25(self, record: ChunkRecord, terms: Iterable[str], n_docs: int, avgdl: float,
              frequencies: dict[str, int]) -> float:
        return sum(self._term_bm25(record, n_docs, avgdl, frequencies).get(t, 0.0) for t in terms)

    def _term_bm25(self, record: ChunkRecord, n_docs: int, avgdl: float,
                   frequencies: dict[str, int]) -> dict[str, float]:
        """kcrm's BM25 contribution of each term in `frequencies` to `record` (lexical.BM25Index's formula)."""
        doc = Counter(self.analyze(f"{record.title}\n{record.text}" if record.title else record.text))
        norm = DEFAULT_K1 * (1.0 - DEFAULT_B + DEFAULT_B * sum(doc.values()) / (avgdl or 1.0))
        out = {}
        for term, df in frequencies.items():
            if doc.get(term):
                idf = math.log1p((n_docs - df + 0.5) / (df + 0.5))
                out[term] = doc[term] * SCALE / (doc[term] + norm) * idf
        return out

    def _dense(self, text: str, depth: int, flt: SearchFilter, groups: frozenset[str] | None) -> list[ChunkHit]:
        """One hit per item: chunks are fetched until `depth` distinct items are found."""
        vector = self.embedder.embed_queries([text])[0]
        fetch = max(4 * depth, 32)
        while True:
            chunks = self.index.dense(vector, fetch, flt, groups)
            best: dict[str, ChunkHit] = {}
            for hit in chunks:
                best.setdefault(hit.record.uid, hit)
            if len(best) >= depth or len(chunks) < fetch or fetch >= 10_000:
                return list(best.values())[:depth]
            fetch = min(10_000, fetch * 4)

    def retrieve(self, request: Retrieve) -> Retrieval:
        lexical = dense = None
        terms: dict[str, float] = {}
        if request.mode in ("hybrid", "lexical"):
            hits, terms = self._lexical(request.text, request.expansion, request.depth, request.filters, request.groups)
            lexical = Candidates(hits, 0)
        if request.mode in ("hybrid", "dense"):
            found = self._dense(request.text, request.depth, request.filters, request.groups)
            dense = Candidates(found, len(found))
        uids = [h.record.uid for h in dense.hits] if dense else []
        answer = self.index.match_set(terms if lexical else None, uids, request.filters, request.groups,
                                      facets=request.facets, newest=request.date_k)
        if lexical is not None:
            lexical.total = self.index.match_count(terms, request.filters, request.groups) if dense else answer.total
        newest = None
        if request.date_k:
            scores = {h.record.uid: h.score for h in lexical.hits} if lexical else {}
            newest = [ChunkHit(r, scores.get(r.uid, 0.0)) for r in answer.records]
        return Retrieval(lexical=lexical, dense=dense, total=answer.total, facets=answer.facets, newest=newest)

    def browse(self, filters: SearchFilter, groups: frozenset[str] | None, k: int, facets: bool) -> Browsed:
        answer = self.index.match_set(None, [], filters, groups, facets=facets, newest=k, browse=True)
        return Browsed(hits=[ChunkHit(r, 0.0) for r in answer.records], total=answer.total, facets=answer.facets)

    # ----------------------------------------------------------------- explain and spelling

    def document_frequency(self, term: str, groups: frozenset[str] | None) -> int:
        return self.index.match_count({term: 1.0}, None, groups)

    def term_weights(self, uid: str, terms: Sequence[str], groups: frozenset[str] | None) -> dict[str, float]:
        """kcrm's BM25 formula over the caller's view: N, df and average length of visible items."""
        record = self.index.item(uid, groups)
        if record is None:
            return {}
        wanted = list(dict.fromkeys(terms))
        if not wanted:
            return {}
        n_docs, avgdl, frequencies = self.index.term_statistics(wanted, groups)
        weights = self._term_bm25(record, n_docs, avgdl, frequencies)
        return {term: round(weights[term], 4) for term in wanted if term in weights}

    def speller(self, groups: frozenset[str] | None) -> SpellingCorrector | None:
        """Built once per group set and generation from the titles and texts the caller may see."""
        key = (self.index.current_index() or "", groups)
        with self._lock:
            cached = self._spellers.get(key)
        if cached is not None:
            return cached

        def known(word: str) -> bool:
            found = self.analyze(word)
            return bool(found) and all(self.document_frequency(t, groups) > RARE for t in found)

        texts = [f"{r.title}\n{r.text}" for r in self.index.scan_items(groups)]
        speller = corrector_for(texts, known)
        with self._lock:
            self._spellers[key] = speller
        return speller

    # ----------------------------------------------------------------- counts and updates

    def item_count(self) -> int:
        return self.index.item_count()

    def chunk_count(self) -> int:
        return self.index.chunk_count()

    def add(self, items: Sequence[IndexItem]) -> int:
        """Embed and write these items into the live generation; searchable on return. Returns chunks written."""
        live = self.index.live()
        written = 0
        for batch_items, chunks, vectors in embedded_batches(items, self.embedder):
            self.index.write(live, batch_items, chunks, vectors)
            written += len(chunks)
        self.index.refresh(live)
        self._spellers.clear()
        return written

    def remove(self, uids: Iterable[str]) -> int:
        removed = self.index.remove(uids)
        self._spellers.clear()
        return removed

    def close(self) -> None:
        if self.ephemeral and (live := self.index.current_index()) is not None:
            self.index.drop(live)
        self.index.client.close()


def open_opensearch_backend(settings: Settings) -> OpenSearchBackend:
    """The backend over the live generation (`IndexNotReady` when none, `IndexIncompatible` on a model change)."""
    backend = OpenSearchBackend(settings, make_embedder(settings))
    backend.check_compatible()
    return backend

