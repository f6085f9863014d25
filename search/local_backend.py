"""The embedded search backend: FAISS for the dense side, kcrm's BM25 for the lexical side.

Files live under the data dir and the indexes are held in memory by each API process; no server
is needed, which is why `make demo` and the tests use it (`KCRM_SEARCH_BACKEND=local`).

It implements `kcrm.search.contract.SearchBackend`: filters and the caller's access groups
arrive with each request and are applied before ranking and counting, and every statistic a
caller can observe (BM25 idf and lengths, document frequencies, the spelling vocabulary, explain's
term weights) is computed over the items that caller may see, as if the others did not exist.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from kcrm.foundation.config import Settings
from kcrm.search import generation
from kcrm.search.contract import Browsed, Candidates, Capabilities, Retrieval, Retrieve
from kcrm.search.embedder import Embedder, make_embedder
from kcrm.search.expansion import Expansion, expanded_scores
from kcrm.search.facets import FacetTable
from kcrm.search.filters import SearchFilter
from kcrm.search.lexical import BM25Index
from kcrm.search.semantic import SemanticSearch, add_items
from kcrm.search.spelling import RARE, SpellingCorrector, corrector_for
from kcrm.search.tokenizer import Analyzer
from kcrm.search.trimming import combine
from kcrm.search.types import ChunkHit, ChunkRecord, IndexItem
from kcrm.search.vector_index import EXACT_SEARCH_LIMIT, index_kind_for

log = logging.getLogger(__name__)

SPELLERS_KEPT = 16  # distinct caller views whose spelling corrector is kept built


def lexical_records(items: Iterable[IndexItem]) -> Iterable[ChunkRecord]:
    """One lexical record per item (title + whole text); a repeated uid keeps its first occurrence."""
    seen: set[str] = set()
    for item in items:
        if item.uid in seen:
            continue
        seen.add(item.uid)
        yield ChunkRecord(chunk_id=item.uid, uid=item.uid, type=item.type, title=item.title, text=item.text,
                          language=item.language, meta=dict(item.meta), start=0, end=len(item.text))


def build_lexical_index(items: Iterable[IndexItem], analyzer: Analyzer | None = None,
                        progress: bool = False) -> BM25Index:
    """Index each item whole (title + text) for BM25: one record per item.

    Whole items rank better than their passages on SciFact (BM25's length normalisation already
    handles long texts), and one record per item makes filters and facets count items.
    """
    index = BM25Index(analyzer)
    batch: list[ChunkRecord] = []
    for record in lexical_records(tqdm(items, unit="item", desc="lexical", disable=not progress)):
        batch.append(record)
        if len(batch) >= 1000:
            index.add(batch)
            batch = []
    index.add(batch)
    return index


class LocalBackend:
    """FAISS + BM25 in this process, behind the search contract."""

    name = "local"
    capabilities = Capabilities(expansion=True, spelling=True, explain=True, incremental=True)

    def __init__(self, dense: SemanticSearch, lexical: BM25Index, exact_limit: int = EXACT_SEARCH_LIMIT) -> None:
        self.dense = dense
        self.lexical = lexical
        self.exact_limit = exact_limit
        self.generation: str | None = None
        self._version = 0
        self._lock = threading.Lock()
        self._table: tuple[tuple[int, int], FacetTable, list[ChunkRecord], tuple[np.ndarray, np.ndarray]] | None = None
        self._spellers: dict[bytes, SpellingCorrector] = {}

    @classmethod
    def build(cls, items: Sequence[IndexItem], embedder: Embedder, analyzer: Analyzer | None = None,
              exact_limit: int = EXACT_SEARCH_LIMIT, progress: bool = False) -> LocalBackend:
        """Both indexes over `items`, in memory (tests, evaluation, benchmarks)."""
        lexical = build_lexical_index(items, analyzer, progress=progress)
        dense = SemanticSearch(SemanticSearch.build(items, embedder, progress=progress, exact_limit=exact_limit),
                               embedder)
        return cls(dense, lexical, exact_limit)

    # -- derived tables ------------------------------------------------------------------------

    def table(self) -> FacetTable:
        """Field values and access groups of every item, aligned with the lexical records."""
        return self._derived()[0]

    def records(self) -> list[ChunkRecord]:
        """The lexical records (one per item) in the table's row order; do not modify."""
        return self._derived()[1]

    def _derived(self) -> tuple[FacetTable, list[ChunkRecord]]:
        current = self._current()
        return current[1], current[2]

    def _current(self) -> tuple[tuple[int, int], FacetTable, list[ChunkRecord], tuple[np.ndarray, np.ndarray]]:
        """The derived tables for the indexes as they are now (rebuilt after `add` or `remove`)."""
        key = (self._version, self.lexical.count())
        current = self._table
        if current is None or current[0] != key:
            with self._lock:
                current = self._table
                if current is None or current[0] != key:
                    records = self.lexical.records()
                    table = FacetTable(records)
                    chunk_ids, chunk_uids = self.dense.index.chunk_table()  # type: ignore[attr-defined]
                    # each chunk's item row; -1 (an item the lexical side lacks) reads a False pad
                    rows = np.fromiter((table.row_of_uid.get(uid, -1) for uid in chunk_uids), dtype=np.int64,
                                       count=len(chunk_uids))
                    current = (key, table, records, (chunk_ids, rows))
                    self._table = current
                    self._spellers = {}
        return current

    def _visible(self, groups: frozenset[str] | None) -> np.ndarray | None:
        return self.table().access.mask(groups)

    def _chunk_ids(self, mask: np.ndarray) -> np.ndarray:
        """The dense chunk ids of the items a row mask selects: two array operations, no uid sets."""
        chunk_ids, rows = self._current()[3]
        return chunk_ids[np.append(mask, False)[rows]]

    # -- the contract --------------------------------------------------------------------------

    def item_count(self) -> int:
        """Distinct items searchable."""
        return self.dense.item_count

    def chunk_count(self) -> int:
        """Passages in the dense index."""
        return self.dense.chunk_count

    def analyze(self, text: str) -> list[str]:
        """The BM25 analyzer's terms for `text`."""
        return self.lexical.analyzer.terms(text)

    def lexical_scores(self, text: str, expansion: Expansion | None, allowed: np.ndarray | None,
                       visible: np.ndarray | None) -> np.ndarray:
        """BM25 of every record under the caller's statistics (`visible`), 0 outside `allowed`."""
        if expansion is None or not expansion.terms:
            scores = self.lexical.scores(text, visible)
            return scores if allowed is None else np.where(allowed, scores, 0.0)
        return expanded_scores(lambda query: self.lexical.scores(query, visible),
                               lambda terms: self.lexical.term_scores(terms, visible),
                               text, expansion, allowed, groups=self.table().codes["language"])

    def retrieve(self, request: Retrieve) -> Retrieval:
        """Filters and trimming first, then both retrievers `depth` deep, the match set and its facets."""
        table, records = self._derived()
        visible = table.access.mask(request.groups)
        mask = combine(table.mask(request.filters), visible)
        lexical: Candidates | None = None
        dense: Candidates | None = None
        matched = np.zeros(table.size, dtype=bool)
        scores: np.ndarray | None = None
        if request.mode != "dense":
            scores = self.lexical_scores(request.text, request.expansion, mask, visible)
            hits = self.lexical.top(scores, request.depth)
            np.greater(scores, 0, out=matched)
            lexical = Candidates(hits, int(np.count_nonzero(matched)))
        if request.mode != "lexical":
            ids = None if mask is None else self._chunk_ids(mask)
            found = self.dense.ranked_chunks(request.text, request.depth, None, None, ids)
            dense = Candidates(found, len(found))
            for hit in found:
                row = table.row_of_uid.get(hit.record.uid)
                if row is not None:
                    matched[row] = True
        newest = None
        if request.date_k > 0:
            rows = table.newest_first(matched)[:request.date_k].tolist()
            newest = [ChunkHit(records[row], float(scores[row]) if scores is not None else 0.0) for row in rows]
        return Retrieval(lexical, dense, int(np.count_nonzero(matched)),
                         table.counts(matched) if request.facets else None, newest)

    def browse(self, filters: SearchFilter, groups: frozenset[str] | None, k: int, facets: bool) -> Browsed:
        """The newest `k` items passing `filters` that `groups` may see."""
        table, records = self._derived()
        mask = combine(table.mask(filters), table.access.mask(groups))
        rows = table.newest_first(mask)
        hits = [ChunkHit(records[row], 0.0) for row in rows[:k].tolist()]
        return Browsed(hits, len(rows), table.counts(rows) if facets else None)

    def document_frequency(self, term: str, groups: frozenset[str] | None) -> int:
        """Items the caller may see that contain an analysed `term`."""
        return self.lexical.document_frequency(term, self._visible(groups))

    def speller(self, groups: frozenset[str] | None) -> SpellingCorrector | None:
        """A corrector built from the words of the items `groups` may see (one per distinct view)."""
        table, records = self._derived()
        visible = table.access.mask(groups)
        key = b"all" if visible is None else np.packbits(visible).tobytes()
        speller = self._spellers.get(key)
        if speller is None:
            rows = range(len(records)) if visible is None else np.flatnonzero(visible).tolist()
            analyzer = self.lexical.analyzer

            def known(word: str) -> bool:
                terms = analyzer.terms(word)
                return bool(terms) and all(self.lexical.document_frequency(t, visible) > RARE for t in terms)

            speller = corrector_for([f"{records[r].title}\n{records[r].text}" for r in rows], known)
            if len(self._spellers) >= SPELLERS_KEPT:
                self._spellers.clear()
            self._spellers[key] = speller
        return speller

    def term_weights(self, uid: str, terms: Sequence[str], groups: frozenset[str] | None) -> dict[str, float]:
        """BM25 contribution of each term to item `uid` under the caller's statistics ({} if unseen)."""
        table = self.table()
        row = table.row_of_uid.get(uid)
        visible = table.access.mask(groups)
        if row is None or (visible is not None and not visible[row]):
            return {}
        return self.lexical.term_weights(row, terms, visible)

    def add(self, items: Sequence[IndexItem]) -> None:
        """Index new items in both indexes (remove changed ones first); the dense index changes
        structure (exact/HNSW) when its size crosses the limit."""
        self.lexical.add(list(lexical_records(items)))
        index = self.dense.index
        add_items(index, items, self.dense.embedder)  # type: ignore[arg-type]
        kind = index_kind_for(index.count(), self.exact_limit)
        if kind != index.kind:  # type: ignore[attr-defined]
            self.dense.index = index.rebuilt(kind)  # type: ignore[attr-defined]
        self._version += 1

    def remove(self, uids: Iterable[str]) -> int:
        """Drop these items from both indexes; returns how many items went."""
        doomed = set(uids)
        removed = self.lexical.remove(doomed)
        self.dense.index.remove(doomed)  # type: ignore[attr-defined]
        self._version += 1
        return removed

    def close(self) -> None:
        """Nothing to release: the indexes are plain memory."""

    def save(self, directory: Path, watermark: str = "") -> None:
        """Publish both indexes as one generation under `directory`."""
        generation.publish(directory, self.dense.index, self.lexical, watermark)  # type: ignore[arg-type]


def open_local_backend(settings: Settings) -> LocalBackend:
    """The published generation under the data dir, with the embedder it was built with."""
    embedder = make_embedder(settings)
    dense, lexical, top = generation.load(settings.index_dir, embedder)
    backend = LocalBackend(SemanticSearch(dense, embedder), lexical, settings.search_exact_limit)
    backend.generation = str(top["build_id"])
    backend.table()  # built now, not on the first request
    return backend
