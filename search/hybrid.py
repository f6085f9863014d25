"""Hybrid search: lexical (BM25) and dense (FAISS) retrieval side by side, fused into one list.

Each retriever ranks items (one entry per item, represented by its best record); the two
candidate lists, `depth` deep, are fused and the top `k` returned. `mode` picks one retriever
alone, which is how `kcrm eval search` measures each against the fusion in the same run.

Field filters (from the query string or parameters) restrict both retrievers before ranking.
Facets count the match set after filters: every item BM25 matches plus the dense side's
`depth` nearest (dense similarity has no natural cut-off, so its candidates stand for its
matches). A query of filters alone browses the filtered items, newest first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from tqdm import tqdm

from kcrm.errors import BadQuery
from kcrm.search.embedder import Embedder
from kcrm.search.expansion import Expansion, QueryExpander, expanded_scores
from kcrm.search.facets import FacetTable
from kcrm.search.filters import SearchFilter, make_filter, parse_query
from kcrm.search.fusion import RRF, Fusion
from kcrm.search.lexical import BM25Index, LexicalIndex
from kcrm.search.semantic import MAX_K, Hit, IndexItem, SemanticSearch, checked_query, to_hit
from kcrm.search.spelling import RARE, Correction, SpellingCorrector, corrector_for
from kcrm.search.taxonomy_browse import default_tree
from kcrm.search.tokenizer import Analyzer
from kcrm.search.trimming import combine
from kcrm.search.vector_index import ChunkHit, ChunkRecord

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "lexical", "dense"]
MODES: tuple[str, ...] = get_args(Mode)
SORTS = ("relevance", "date")
DEFAULT_DEPTH = 100


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


def lexical_records(items: Iterable[IndexItem]) -> Iterable[ChunkRecord]:
    """One lexical record per item (title + whole text); a repeated uid keeps its first occurrence."""
    seen: set[str] = set()
    for item in items:
        if item.uid in seen:
            continue
        seen.add(item.uid)
        yield ChunkRecord(chunk_id=item.uid, uid=item.uid, type=item.type, title=item.title, text=item.text,
                          language=item.language, meta=dict(item.meta), start=0, end=len(item.text))


def best_per_item(hits: Iterable[ChunkHit], k: int) -> list[ChunkHit]:
    """The first (best) hit of each item, in order, at most `k`."""
    best: dict[str, ChunkHit] = {}
    for hit in hits:
        best.setdefault(hit.record.uid, hit)
        if len(best) >= k:
            break
    return list(best.values())


@dataclass
class SearchPage:
    """One answer: the hits, how many items matched, facet counts, and what was searched."""

    hits: list[Hit]
    total: int
    text: str
    filters: SearchFilter
    facets: dict[str, dict[str, int]] | None = None
    mode: str = "hybrid"
    expansion: Expansion | None = None
    corrections: list[Correction] = field(default_factory=list)
    searched: str | None = None  # the text actually searched (after spelling corrections)
    explain: dict[str, Any] | None = None

    @property
    def did_you_mean(self) -> str | None:
        """The corrected query when spelling corrections were applied."""
        return self.searched if self.corrections else None


class HybridSearch:
    """One search service over a lexical and a dense index built from the same items."""

    def __init__(self, dense: SemanticSearch, lexical: LexicalIndex, fusion: Fusion | None = None,
                 depth: int = DEFAULT_DEPTH, expander: QueryExpander | None = None) -> None:
        if depth < 1:
            raise ValueError("depth must be at least 1")
        self.dense = dense
        self.lexical = lexical
        self.fusion: Fusion = fusion or RRF()
        self.depth = depth
        self.expander = expander
        self.generation: str | None = None  # build id of the published generation it was loaded from
        self._table: tuple[int, FacetTable] | None = None
        self._uid_sets: dict[bytes, frozenset[str]] = {}
        self._speller: tuple[int, SpellingCorrector] | None = None

    def facet_table(self) -> FacetTable:
        """Field values of every item, aligned with the lexical index's records (built on first use)."""
        if self._table is None or self._table[0] != self.lexical.count():
            records = self.lexical.records()
            self._table = (len(records), FacetTable(records))
        return self._table[1]

    def _mask_uids(self, mask: np.ndarray, uids: list[str]) -> frozenset[str]:
        """The uids a mask selects, one shared frozenset per distinct mask (a caller's access groups
        give the same mask on every query, and the dense index caches its selector per set)."""
        key = np.packbits(mask).tobytes()
        found = self._uid_sets.get(key)
        if found is None:
            found = frozenset(uids[i] for i in np.flatnonzero(mask).tolist())
            if len(self._uid_sets) >= 64:
                self._uid_sets.clear()
            self._uid_sets[key] = found
        return found

    @classmethod
    def load(cls, dense_dir: Path, lexical_dir: Path, embedder: Embedder, analyzer: Analyzer | None = None,
             fusion: Fusion | None = None, expander: QueryExpander | None = None) -> HybridSearch:
        """Open both published indexes; `IndexNotReady` if either is missing or incompatible."""
        dense = SemanticSearch.load(dense_dir, embedder)
        lexical = BM25Index.load(lexical_dir, analyzer)
        if dense.index.watermark != lexical.watermark:  # type: ignore[attr-defined]
            log.warning("the dense (%r) and lexical (%r) indexes come from different builds; run `kcrm reindex`",
                        dense.index.watermark, lexical.watermark)  # type: ignore[attr-defined]
        search = cls(dense, lexical, fusion, expander=expander)
        search.facet_table()  # built now, not on the first request
        return search

    @property
    def item_count(self) -> int:
        """Distinct items searchable."""
        return self.dense.item_count

    @property
    def chunk_count(self) -> int:
        """Passages in the dense index."""
        return self.dense.chunk_count

    def expansion(self, query: str, expand: bool = True) -> Expansion | None:
        """The taxonomy labels `query` is expanded with (None: expansion off or no expander)."""
        return self.expander.expand(query) if expand and self.expander is not None else None

    def lexical_scores(self, query: str, expansion: Expansion | None = None,
                       allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 of every record for `query`, plus its expansion terms at their lower weight;
        0 outside `allowed` (a mask over records)."""
        terms_of = getattr(self.lexical, "term_scores", None)  # engines without it are not expanded
        if expansion is None or not expansion.terms or terms_of is None:
            scores = self.lexical.scores(query)
            return scores if allowed is None else np.where(allowed, scores, 0.0)
        return expanded_scores(self.lexical.scores, terms_of, query, expansion, allowed,
                               groups=self.facet_table().codes["language"])

    def lexical_ranking(self, query: str, k: int, types: set[str] | None = None,
                        expand: bool = False) -> list[ChunkHit]:
        """The best record of each of the `k` best items by BM25 (with taxonomy expansion if asked)."""
        if types is not None and not types:
            return []
        expansion = self.expansion(query, expand)
        if expansion is not None and expansion.terms:
            allowed = None if types is None else self.facet_table().mask(make_filter({"type": types}))
            scores = self.lexical_scores(query, expansion, allowed)
            return best_per_item(self.lexical.top(scores, min(self.lexical.count(), 4 * max(k, 1))), k)
        fetch = max(k, 1)
        total = self.lexical.count()
        while True:
            hits = self.lexical.search(query, fetch, types)
            best = best_per_item(hits, k)
            if len(best) >= k or len(hits) < fetch or fetch >= total:
                return best
            fetch = min(total, fetch * 4)

    def candidates(self, query: str, depth: int, types: set[str] | None = None,
                   expand: bool = False) -> tuple[list[ChunkHit], list[ChunkHit]]:
        """Both retrievers' item rankings, `depth` deep: (lexical, dense); expansion is lexical only."""
        return (self.lexical_ranking(query, depth, types, expand),
                self.dense.ranked_chunks(query, depth, types))

    def fuse(self, lexical: list[ChunkHit], dense: list[ChunkHit], fusion: Fusion | None = None) -> list[ChunkHit]:
        """Fuse two item rankings; each item keeps the record of the list that ranked it higher.

        Fused scores are scaled to [0, 1] (1: first in both lists), so that consumers which
        weigh hits by score (expert finding) see a spread like that of cosines.
        """
        fusion = fusion or self.fusion
        fused = fusion.fuse([[(h.record.uid, h.score) for h in lexical], [(h.record.uid, h.score) for h in dense]])
        ceiling = fusion.ceiling(2) or 1.0
        rank = {}
        for hits in (lexical, dense):
            for position, hit in enumerate(hits):
                if hit.record.uid not in rank or position < rank[hit.record.uid][0]:
                    rank[hit.record.uid] = (position, hit.record)
        return [ChunkHit(rank[uid][1], score / ceiling) for uid, score in fused]

    def ranked(self, query: str, k: int, types: set[str] | None = None, mode: str = "hybrid",
               expand: bool = False) -> list[ChunkHit]:
        """The `k` best items as (record, score) in the given mode; the query is not re-checked."""
        return self._rank(query, k, mode, types, None, self.expansion(query, expand))[0]

    def _rank(self, text: str, k: int, mode: str, types: set[str] | None, mask: np.ndarray | None,
              expansion: Expansion | None = None) -> tuple[list[ChunkHit], np.ndarray | None, list[ChunkHit]]:
        """Ranked items, the BM25 scores of every record (None in dense mode), the dense candidates."""
        ranked, lexical_scores, _, dense = self._rankings(text, k, mode, types, mask, expansion)
        return ranked[:k], lexical_scores, dense

    def _rankings(self, text: str, k: int, mode: str, types: set[str] | None, mask: np.ndarray | None,
                  expansion: Expansion | None = None
                  ) -> tuple[list[ChunkHit], np.ndarray | None, list[ChunkHit], list[ChunkHit]]:
        """(the final ranking, at least `k` deep; BM25 of every record or None; the lexical and the
        dense candidate lists)."""
        if mode not in MODES:
            raise BadQuery(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        lexical_scores = None
        dense: list[ChunkHit] = []
        lexical: list[ChunkHit] = []
        depth = k if mode != "hybrid" else max(k, self.depth)
        if mode != "dense":
            allowed = mask
            if types is not None:
                kinds = self.facet_table().mask(make_filter({"type": types}))
                allowed = kinds if allowed is None else allowed & kinds
            lexical_scores = self.lexical_scores(text, expansion, allowed)
            lexical = self.lexical.top(lexical_scores, depth)
        if mode != "lexical":
            table_uids = self.facet_table().uids
            uids = None if mask is None else self._mask_uids(mask, table_uids)
            dense = self.dense.ranked_chunks(text, max(k, self.depth), types, uids)
        if mode == "lexical":
            return lexical, lexical_scores, lexical, []
        if mode == "dense":
            return dense, None, [], dense
        return self.fuse(lexical, dense, self.fusion.for_query(text)), lexical_scores, lexical, dense

    def search(self, query: str, k: int = 10, types: set[str] | None = None, mode: str = "hybrid",
               expand: bool = False, groups: list[str] | None = None) -> list[Hit]:
        """Up to `k` items for `query`, one hit per item, best first.

        Scores are cosines (dense), BM25 (lexical) or fused scores scaled to [0, 1] (hybrid):
        they order one response and are not comparable across modes.
        """
        return self.page(query, k, types, mode, expand=expand, groups=groups).hits

    def speller(self) -> SpellingCorrector | None:
        """The spelling corrector over the indexed words (built on first use; None if the engine can't)."""
        frequency = getattr(self.lexical, "document_frequency", None)
        analyzer = getattr(self.lexical, "analyzer", None)
        if frequency is None or analyzer is None:
            return None
        if self._speller is None or self._speller[0] != self.lexical.count():
            def known(word: str) -> bool:
                terms = analyzer.terms(word)
                return bool(terms) and all(frequency(term) > RARE for term in terms)

            texts = [f"{r.title}\n{r.text}" for r in self.lexical.records()]
            self._speller = (self.lexical.count(), corrector_for(texts, known))
        return self._speller[1]

    def page(self, query: str, k: int = 10, types: set[str] | None = None, mode: str = "hybrid",
             filters: SearchFilter | None = None, facets: bool = False, expand: bool = True,
             sort: str = "relevance", explain: bool = False, spellcheck: bool = False,
             groups: list[str] | None = None) -> SearchPage:
        """Hits for `query` after its `field:value` filters and `filters`, with facet counts if asked.

        `groups` are the caller's access groups (None: sees everything); items it may not see are
        masked out with the filters, before ranking and counting (`kcrm.search.trimming`).

        `expand` adds the taxonomy's synonyms and translations of concepts the query names to the
        lexical side (at a lower weight); the page's `expansion` says which. `spellcheck` replaces
        words the index does not know by close, frequent ones it does (the page's `corrections`).
        `sort="date"` orders the matching items newest first instead of by relevance. `explain`
        attaches to each hit why it ranked there (`Hit.explain`) and to the page what was applied.
        """
        if sort not in SORTS:
            raise BadQuery(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
        text, parsed = parse_query(query if isinstance(query, str) else "")
        flt = parsed.merged(filters) if filters is not None else parsed
        if types is not None:
            flt = flt.merged(make_filter({"type": types}))
        if text or flt.empty:
            text = checked_query(text, k)  # BadQuery for an empty or over-long query, or a bad k
        elif not 1 <= k <= MAX_K:
            raise BadQuery(f"k must be between 1 and {MAX_K}, not {k}")
        if types is not None and not types:
            return SearchPage([], 0, text, flt, None, mode)
        table = self.facet_table()
        mask = combine(table.mask(default_tree().resolve(flt)),  # a concept filter includes its descendants
                       table.access.mask(groups))
        if not text:
            records = self.lexical.records()
            rows = table.newest_first(mask)
            hits = [to_hit(ChunkHit(records[row], 0.0), "") for row in rows[:k].tolist()]
            explained = {"filters": flt.as_dict(), "sort": "date", "browse": True} if explain else None
            return SearchPage(hits, len(rows), text, flt, table.counts(rows) if facets else None, mode,
                              explain=explained)
        corrections: list[Correction] = []
        searched = text
        speller = self.speller() if spellcheck else None
        if speller is not None:
            searched, corrections = speller.correct(text)
        expansion = self.expansion(searched, expand) if mode != "dense" else None
        ranked, lexical_scores, lexical, dense = self._rankings(searched, k, mode, None, mask, expansion)
        matched = np.zeros(table.size, dtype=bool)
        if lexical_scores is not None:
            matched |= lexical_scores > 0
        for hit in dense:
            row = table.row_of_uid.get(hit.record.uid)
            if row is not None:
                matched[row] = True
        by_relevance = ranked
        if sort == "date":
            records = self.lexical.records()
            relevance = {hit.record.uid: hit.score for hit in ranked}  # hybrid and dense: `depth` deep
            rows = table.newest_first(matched)[:k].tolist()
            ranked = [ChunkHit(records[row], float(lexical_scores[row]) if mode == "lexical" and lexical_scores is not None
                               else relevance.get(records[row].uid, 0.0)) for row in rows]
        hits = [to_hit(hit, searched) for hit in ranked[:k]]
        explained = None
        if explain:
            explained = self._explain_page(searched, flt, mode, sort, expansion, corrections)
            self._explain_hits(hits, searched, mode, expansion, lexical_scores, lexical, dense, by_relevance)
        return SearchPage(hits, int(matched.sum()), text, flt, table.counts(matched) if facets else None, mode,
                          expansion, corrections=corrections, searched=searched, explain=explained)

    def _explain_page(self, searched: str, flt: SearchFilter, mode: str, sort: str, expansion: Expansion | None,
                      corrections: list[Correction]) -> dict[str, Any]:
        """What was applied to the whole query: terms, filters, expansion, corrections, fusion."""
        analyzer = getattr(self.lexical, "analyzer", None)
        fusion = self.fusion.for_query(searched)
        weights = getattr(fusion, "weights", None)
        return {
            "searched": searched,
            "terms": list(dict.fromkeys(analyzer.terms(searched))) if analyzer is not None and mode != "dense" else [],
            "filters": flt.as_dict(), "mode": mode, "sort": sort,
            "corrections": [asdict(c) for c in corrections],
            "expansion": None if expansion is None else {
                "concepts": list(expansion.concepts), "labels": list(expansion.labels),
                "terms": list(expansion.terms), "weight": expansion.weight},
            "fusion": None if mode != "hybrid" else {
                "method": getattr(fusion, "name", type(fusion).__name__),
                "weights": {"lexical": weights[0], "dense": weights[1]} if weights else None,
                "depth": self.depth},
        }

    def _explain_hits(self, hits: list[Hit], searched: str, mode: str, expansion: Expansion | None,
                      lexical_scores: np.ndarray | None, lexical: list[ChunkHit], dense: list[ChunkHit],
                      ranked: list[ChunkHit]) -> None:
        """Per hit: its BM25 score, rank and matched terms; its dense score and rank; its fused rank."""
        table = self.facet_table()
        analyzer = getattr(self.lexical, "analyzer", None)
        query_terms = list(dict.fromkeys(analyzer.terms(searched))) if analyzer is not None else []
        extra_terms = list(expansion.terms) if expansion is not None else []
        weigh = getattr(self.lexical, "term_weights", None)
        dense_rank = {hit.record.uid: (position + 1, hit) for position, hit in enumerate(dense)}
        fused_rank = {hit.record.uid: position + 1 for position, hit in enumerate(ranked)} if mode == "hybrid" else {}
        for hit in hits:
            row = table.row_of_uid.get(hit.uid)
            out: dict[str, Any] = {"lexical": None, "dense": None}
            if lexical_scores is not None and row is not None and lexical_scores[row] > 0:
                score = float(lexical_scores[row])
                own = weigh(row, query_terms) if weigh else {}
                out["lexical"] = {
                    "score": round(score, 4), "rank": int((lexical_scores > score).sum()) + 1,
                    "matched_terms": own,
                    "expansion_terms": ({t: w for t, w in weigh(row, extra_terms).items() if t not in own}
                                        if weigh and extra_terms else {}),
                    "expansion_part": round(max(0.0, score - sum(own.values())), 4),
                }
            if hit.uid in dense_rank:
                position, best = dense_rank[hit.uid]
                out["dense"] = {"score": round(best.score, 4), "rank": position, "chunk_id": best.record.chunk_id}
            if mode == "hybrid":
                out["fused"] = {"score": round(hit.score, 4), "rank": fused_rank.get(hit.uid)}
            hit.explain = out

