"""Hybrid search: lexical (BM25) and dense retrieval side by side, fused into one list.

`HybridSearch` is the service the API, the evaluation, expert finding, case assist and alerts
hold: a `SearchBackend` (`kcrm.search.contract`; the embedded `LocalBackend` unless another is
given), the fusion and the taxonomy expander. Every query goes through
`kcrm.search.ranking.search_page`, which validates nothing twice (`SearchRequest.parse` did) and
ranks with `kcrm.search.ranking.rank`, the one ranking function.

Each retriever ranks items (one entry per item, represented by its best record); the two
candidate lists, `depth` deep, are fused and the top `k` returned. `mode` picks one retriever
alone. Field filters and the caller's access groups go down to the backend, which applies them
before ranking and counting. Facets count the match set after filters: every item BM25 matches
plus the dense side's `depth` nearest. A query of filters alone browses the filtered items,
newest first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from kcrm.search.contract import DEFAULT_DEPTH, MODES, SORTS, Mode, SearchBackend, SearchRequest  # noqa: F401
from kcrm.search.embedder import Embedder
from kcrm.search.expansion import Expansion, QueryExpander
from kcrm.search.facets import FacetTable
from kcrm.search.filters import SearchFilter
from kcrm.search.fusion import RRF, Fusion
from kcrm.search.lexical import BM25Index, LexicalIndex
from kcrm.search.local_backend import LocalBackend, build_lexical_index, lexical_records  # noqa: F401
from kcrm.search.ranking import SearchPage, search_page  # noqa: F401
from kcrm.search.semantic import SemanticSearch
from kcrm.search.spelling import SpellingCorrector
from kcrm.search.types import ChunkHit, Hit

log = logging.getLogger(__name__)


def best_per_item(hits: Iterable[ChunkHit], k: int) -> list[ChunkHit]:
    """The first (best) hit of each item, in order, at most `k`."""
    best: dict[str, ChunkHit] = {}
    for hit in hits:
        best.setdefault(hit.record.uid, hit)
        if len(best) >= k:
            break
    return list(best.values())


class HybridSearch:
    """One search service over a backend's lexical and dense retrievers."""

    def __init__(self, dense: SemanticSearch | None = None, lexical: LexicalIndex | None = None,
                 fusion: Fusion | None = None, depth: int = DEFAULT_DEPTH, expander: QueryExpander | None = None,
                 *, backend: SearchBackend | None = None) -> None:
        if depth < 1:
            raise ValueError("depth must be at least 1")
        if backend is None:
            if dense is None or lexical is None:
                raise ValueError("give a backend, or both a dense and a lexical index")
            backend = LocalBackend(dense, lexical)  # type: ignore[arg-type]
        self.backend: SearchBackend = backend
        self.fusion: Fusion = fusion or RRF()
        self.depth = depth
        self.expander = expander
        self.generation: str | None = backend.generation  # the index build it serves

    @property
    def local(self) -> LocalBackend:
        """The embedded backend (benchmarks and tests that look inside it); TypeError for another."""
        if not isinstance(self.backend, LocalBackend):
            raise TypeError(f"the {self.backend.name} backend has no local indexes")
        return self.backend

    @property
    def dense(self) -> SemanticSearch:
        """The local backend's dense side."""
        return self.local.dense

    @property
    def lexical(self) -> BM25Index:
        """The local backend's lexical side."""
        return self.local.lexical

    def facet_table(self) -> FacetTable:
        """The local backend's field table (tests and benchmarks)."""
        return self.local.table()

    @classmethod
    def load(cls, dense_dir: Path, lexical_dir: Path, embedder: Embedder, analyzer: object | None = None,
             fusion: Fusion | None = None, expander: QueryExpander | None = None) -> HybridSearch:
        """Open both indexes from two directories; `IndexNotReady` if either is missing or incompatible."""
        dense = SemanticSearch.load(dense_dir, embedder)
        lexical = BM25Index.load(lexical_dir, analyzer)  # type: ignore[arg-type]
        if dense.index.watermark != lexical.watermark:  # type: ignore[attr-defined]
            log.warning("the dense (%r) and lexical (%r) indexes come from different builds; run `kcrm reindex`",
                        dense.index.watermark, lexical.watermark)  # type: ignore[attr-defined]
        search = cls(dense, lexical, fusion, expander=expander)
        search.facet_table()  # built now, not on the first request
        return search

    @property
    def item_count(self) -> int:
        """Distinct items searchable."""
        return self.backend.item_count()

    @property
    def chunk_count(self) -> int:
        """Passages in the dense index."""
        return self.backend.chunk_count()

    def expansion(self, query: str, expand: bool = True) -> Expansion | None:
        """The taxonomy labels `query` is expanded with (None: expansion off or no expander)."""
        if not expand or self.expander is None or not self.backend.capabilities.expansion:
            return None
        return self.expander.expand(query)

    def fusion_for(self, request: SearchRequest) -> Fusion:
        """The fusion for one request: the configured policy's pick for the query (its language)."""
        return self.fusion.for_query(request.text)

    def speller(self, groups: Iterable[str] | None = None) -> SpellingCorrector | None:
        """The spelling corrector over the words `groups` may see (None: everything)."""
        if not self.backend.capabilities.spelling:
            return None
        return self.backend.speller(None if groups is None else frozenset(groups))

    def run(self, request: SearchRequest) -> SearchPage:
        """Answer a validated request through the one ranking path."""
        return search_page(self.backend, request, self.fusion_for(request), self.expander)

    def search(self, query: str, k: int = 10, types: set[str] | None = None, mode: str = "hybrid",
               expand: bool = False, groups: list[str] | None = None) -> list[Hit]:
        """Up to `k` items for `query`, one hit per item, best first.

        Scores are cosines (dense), BM25 (lexical) or fused scores scaled to [0, 1] (hybrid):
        they order one response and are not comparable across modes.
        """
        return self.page(query, k, types, mode, expand=expand, groups=groups).hits

    def page(self, query: str, k: int = 10, types: set[str] | None = None, mode: str = "hybrid",
             filters: SearchFilter | None = None, facets: bool = False, expand: bool = True,
             sort: str = "relevance", explain: bool = False, spellcheck: bool = False,
             groups: list[str] | None = None) -> SearchPage:
        """Hits for `query` after its `field:value` filters and `filters`, with facet counts if asked.

        `groups` are the caller's access groups (None: sees everything); items it may not see are
        left out before ranking and counting, and spelling, BM25 statistics and explain see only
        what the caller may see.

        `expand` adds the taxonomy's synonyms and translations of concepts the query names to the
        lexical side (at a lower weight); the page's `expansion` says which. `spellcheck` replaces
        words the index does not know by close, frequent ones it does (the page's `corrections`).
        `sort="date"` orders the matching items newest first instead of by relevance. `explain`
        attaches to each hit why it ranked there (`Hit.explain`) and to the page what was applied.
        """
        request = SearchRequest.parse(query, k, mode=mode, filters=filters, types=types, facets=facets, sort=sort,
                                      expand=expand, spellcheck=spellcheck, explain=explain, groups=groups,
                                      depth=self.depth)
        return self.run(request)
