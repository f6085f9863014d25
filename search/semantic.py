"""Dense semantic search: build the chunk index from graph items, answer queries with items.

Items are indexed as passages (see `chunking`), but people look for cases and documents, not
passages: a query returns each item once, scored by its best passage, with that passage as the
snippet. Scores are cosine similarities, comparable across queries of one embedder.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Sequence, Sized
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from kcrm.foundation.errors import IndexIncompatible
from kcrm.search.chunking import DEFAULT_OVERLAP_CHARS, DEFAULT_TARGET_CHARS, chunk_text, passage_text
from kcrm.search.contract import MAX_K, MAX_QUERY_CHARS, checked_query  # noqa: F401 (re-exported)
from kcrm.search.embedder import Embedder
from kcrm.search.types import ChunkHit, ChunkRecord, Hit, IndexItem
from kcrm.search.vector_index import EXACT_SEARCH_LIMIT, FaissVectorIndex, VectorIndex, index_kind_for

log = logging.getLogger(__name__)

SNIPPET_CHARS = 240
EMBED_BATCH = 256

_LATIN_WORD = re.compile(r"[0-9a-z\u00c0-\u024f]+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_STOPWORDS = frozenset(
    "a an and are as at be but by can do does for from has have how i if in is it my no not of on or "
    "our so the to was we what when where which who why will with you your".split()
)


class SemanticSearch:
    """Queries one vector index with the embedder that built it."""

    def __init__(self, index: VectorIndex, embedder: Embedder) -> None:
        if index.embedder_name != embedder.name or index.dim != embedder.dim:
            raise IndexIncompatible(
                f"the index was built with {index.embedder_name!r} ({index.dim}-d) but the embedder is "
                f"{embedder.name!r} ({embedder.dim}-d): run `kcrm reindex`"
            )
        self.index = index
        self.embedder = embedder

    @classmethod
    def load(cls, directory: Path, embedder: Embedder) -> SemanticSearch:
        """Open a saved index; `IndexNotReady` if there is none or it belongs to another embedder."""
        return cls(FaissVectorIndex.load(directory, expect=embedder), embedder)

    @property
    def item_count(self) -> int:
        """Distinct items searchable."""
        return self.index.item_count()

    @property
    def chunk_count(self) -> int:
        """Passages indexed."""
        return self.index.count()

    @staticmethod
    def build(items: Iterable[IndexItem], embedder: Embedder, progress: bool = False, *,
              target_chars: int = DEFAULT_TARGET_CHARS, overlap_chars: int = DEFAULT_OVERLAP_CHARS,
              batch_size: int = EMBED_BATCH, exact_limit: int = EXACT_SEARCH_LIMIT) -> FaissVectorIndex:
        """Chunk and embed every item into a fresh in-memory index (save it to publish it).

        Items stream through in batches, so memory holds the vectors and one batch of text;
        a repeated uid keeps its first occurrence. The index is exact up to `exact_limit`
        expected vectors (about one per item), HNSW above.
        """
        total = len(items) if isinstance(items, Sized) else None
        index = FaissVectorIndex.for_embedder(embedder, expected_vectors=total or 0, exact_limit=exact_limit)
        started = time.perf_counter()
        add_items(index, items, embedder, progress, target_chars=target_chars, overlap_chars=overlap_chars,
                  batch_size=batch_size, total=total)
        if index.kind != index_kind_for(index.count(), exact_limit):  # chunks outnumber items
            index = index.rebuilt(index_kind_for(index.count(), exact_limit))  # (tuned as it is rebuilt)
        elif index.kind == "hnsw":
            index.tune()
        log.info("embedded %d items as %d chunks with %s in %.1f s (%s index)", index.item_count(), index.count(),
                 embedder.name, time.perf_counter() - started, index.kind)
        return index

    def search(self, query: str, k: int = 10, types: set[str] | None = None) -> list[Hit]:
        """Up to `k` items most similar to `query`, one hit per item, best first."""
        text = checked_query(query, k)
        if types is not None and not types:
            return []
        return [to_hit(chunk, text) for chunk in self.ranked_chunks(text, k, types)]

    def ranked_chunks(self, query: str, k: int, types: set[str] | None = None,
                      uids: set[str] | None = None, ids: Any = None) -> list[ChunkHit]:
        """The best chunk of each of the `k` most similar items (only `uids`, if given), best first.

        The query must already be checked (`checked_query`).
        """
        if (types is not None and not types) or (uids is not None and not uids) or (ids is not None and not len(ids)):
            return []
        vector = self.embedder.embed_queries([query])[0]
        return self._best_per_item(vector, k, types, uids, ids)

    def _best_per_item(self, vector: Any, k: int, types: set[str] | None,
                       uids: set[str] | None = None, ids: Any = None) -> list[ChunkHit]:
        """Fetch chunks until `k` distinct items are found (items often match with several)."""
        total = self.index.count()
        fetch = min(total, max(4 * k, 32))
        while True:
            best: dict[str, ChunkHit] = {}
            hits = self.index.search(vector, fetch, types, uids, ids)  # type: ignore[call-arg]
            for hit in hits:
                best.setdefault(hit.record.uid, hit)  # hits come best first
            if len(best) >= k or len(hits) < fetch or fetch >= total:
                return list(best.values())[:k]
            fetch = min(total, fetch * 4)


def add_items(index: FaissVectorIndex, items: Iterable[IndexItem], embedder: Embedder, progress: bool = False, *,
              target_chars: int = DEFAULT_TARGET_CHARS, overlap_chars: int = DEFAULT_OVERLAP_CHARS,
              batch_size: int = EMBED_BATCH, total: int | None = None) -> int:
    """Chunk, embed and add items to `index` (a repeated uid keeps its first occurrence); returns chunks added."""
    records: list[ChunkRecord] = []
    texts: list[str] = []
    seen: set[str] = set()
    added = 0
    with tqdm(total=total, unit="item", desc="embedding", disable=not progress) as bar:
        waiting = 0
        for item in items:
            if item.uid in seen:
                log.warning("duplicate item uid %s skipped", item.uid)
                continue
            seen.add(item.uid)
            for chunk in chunk_text(item.uid, item.title, item.text, target_chars, overlap_chars):
                records.append(ChunkRecord(
                    chunk_id=chunk.chunk_id, uid=item.uid, type=item.type, title=item.title,
                    text=chunk.text, language=item.language, meta=dict(item.meta),
                    start=chunk.start, end=chunk.end,
                ))
                texts.append(chunk.embed_text)
            waiting += 1
            if len(texts) >= batch_size:
                index.add(records, embedder.embed_passages(texts))
                added += len(records)
                bar.update(waiting)
                records, texts, waiting = [], [], 0
        if texts:
            index.add(records, embedder.embed_passages(texts))
            added += len(records)
        bar.update(waiting)
    return added


class ReusingEmbedder:
    """An embedder that answers passages a previous index already embedded with its stored vectors.

    A rebuild after the graph changed only a little (mining writes tiers and churn risk, which
    are metadata, not text) would otherwise run the models over every passage again: minutes
    on a 2-core machine for the sample company. Vectors are reused only from an index built by
    an embedder of the same name and dimension (the name carries the model, version and
    weights, as `SemanticSearch` already relies on); other passages are embedded afresh.
    """

    def __init__(self, inner: Embedder, previous: FaissVectorIndex) -> None:
        if previous.embedder_name != inner.name or previous.dim != inner.dim:
            raise IndexIncompatible(f"cannot reuse vectors of {previous.embedder_name!r} for {inner.name!r}")
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.previous = previous
        self.known = {passage_text(record.title, record.text): chunk_id
                      for chunk_id, record in previous._records.items()}
        self.reused = self.embedded = 0

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        found = [self.known.get(text) for text in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        fresh = [i for i, chunk_id in enumerate(found) if chunk_id is None]
        kept = [i for i, chunk_id in enumerate(found) if chunk_id is not None]
        if fresh:
            out[fresh] = self.inner.embed_passages([texts[i] for i in fresh])
        if kept:
            out[kept] = self.previous._vectors_of(np.asarray([found[i] for i in kept], dtype=np.int64))
        self.reused += len(kept)
        self.embedded += len(fresh)
        return out


def to_hit(chunk: ChunkHit, query: str, score: float | None = None) -> Hit:
    """A result entry for a chunk: its item's fields and a snippet around the query's terms."""
    record = chunk.record
    return Hit(uid=record.uid, type=record.type, title=record.title, snippet=make_snippet(record.text, query),
               score=chunk.score if score is None else score, chunk_id=record.chunk_id,
               language=record.language, meta=dict(record.meta))


def query_terms(query: str) -> list[str]:
    """Words worth highlighting, longest first: English words and Chinese runs with their bigrams."""
    terms = {word for word in _LATIN_WORD.findall(query.lower()) if len(word) >= 2 and word not in _STOPWORDS}
    for run in _CJK_RUN.findall(query):
        terms.add(run)
        terms.update(run[i:i + 2] for i in range(len(run) - 1))
    return sorted(terms, key=lambda term: (-len(term), term))


def _first_match(text: str, terms: list[str]) -> int:
    """Position of the longest query term found in `text` (an English word from its start), or -1."""
    low = text.lower()
    for term in terms:
        pattern = re.escape(term) if _CJK_RUN.fullmatch(term) else r"(?<![0-9a-z])" + re.escape(term)
        match = re.search(pattern, low)
        if match:
            return match.start()
    return -1


def make_snippet(text: str, query: str, width: int = SNIPPET_CHARS) -> str:
    """About `width` characters of `text` around the first query term, else its beginning."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    position = _first_match(text, query_terms(query))
    start = max(0, position - width // 4) if position > 0 else 0
    end = min(len(text), start + width)
    start = max(0, end - width)
    if start > 0 and text[start - 1].isalnum() and text[start].isascii():
        space = text.find(" ", start, start + 20)
        start = space + 1 if space >= 0 else start
    if end < len(text) and text[end].isalnum() and text[end - 1].isascii():
        space = text.rfind(" ", end - 20, end)
        end = space if space > start else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")
