"""The one ranking path: what `/v1/search`, `kcrm eval search`, expert finding, case assist and
alerts all go through, so that what is measured is what is served.

`search_page` answers a validated `SearchRequest` over any `SearchBackend`: spelling (over what
the caller may see), taxonomy expansion, one `retrieve` call that carries the filters and the
access groups down to the backend, then `rank` (fusion of the per-retriever candidates), the
date order and explain. `rank` is the single function that turns a backend's candidates into a
ranking; the evaluation calls it directly on the same `Retrieval` to compare fusions without
retrieving twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kcrm.search.contract import Candidates, Retrieval, Retrieve, SearchBackend, SearchRequest
from kcrm.search.expansion import Expansion, QueryExpander
from kcrm.search.filters import SearchFilter
from kcrm.search.fusion import Fusion
from kcrm.search.semantic import to_hit
from kcrm.search.spelling import Correction
from kcrm.search.taxonomy_browse import default_tree
from kcrm.search.types import ChunkHit, Hit


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


def fuse(lexical: list[ChunkHit], dense: list[ChunkHit], fusion: Fusion) -> list[ChunkHit]:
    """Fuse two item rankings; each item keeps the record of the list that ranked it higher.

    Fused scores are scaled to [0, 1] (1: first in both lists), so that consumers which
    weigh hits by score (expert finding) see a spread like that of cosines.
    """
    fused = fusion.fuse([[(h.record.uid, h.score) for h in lexical], [(h.record.uid, h.score) for h in dense]])
    ceiling = fusion.ceiling(2) or 1.0
    rank_of: dict[str, tuple[int, Any]] = {}
    for hits in (lexical, dense):
        for position, hit in enumerate(hits):
            if hit.record.uid not in rank_of or position < rank_of[hit.record.uid][0]:
                rank_of[hit.record.uid] = (position, hit.record)
    return [ChunkHit(rank_of[uid][1], score / ceiling) for uid, score in fused]


def _hits(candidates: Candidates | None) -> list[ChunkHit]:
    return [] if candidates is None else candidates.hits


def rank(retrieval: Retrieval, mode: str, fusion: Fusion) -> list[ChunkHit]:
    """The ranking of one retrieval in `mode`: one retriever's list, or both fused by `fusion`.

    The only place candidates become a ranking: the API, the evaluation, expert finding, case
    assist and alerts all reach it (tests/unit/test_one_ranking_path.py checks the first two).
    """
    if mode == "lexical":
        return _hits(retrieval.lexical)
    if mode == "dense":
        return _hits(retrieval.dense)
    return fuse(_hits(retrieval.lexical), _hits(retrieval.dense), fusion)


def retrieval_depth(request: SearchRequest) -> int:
    """Candidates per retriever: `k` for one retriever alone, at least `depth` when fusing."""
    return request.k if request.mode == "lexical" else max(request.k, request.depth)


def search_page(backend: SearchBackend, request: SearchRequest, fusion: Fusion,
                expander: QueryExpander | None = None) -> SearchPage:
    """Hits for a validated request, with total, facets, corrections, expansion and explain."""
    if request.nothing:
        return SearchPage([], 0, request.text, request.filters, None, request.mode)
    flt = default_tree().resolve(request.filters)  # a concept filter includes its descendants
    if request.browsing:
        browsed = backend.browse(flt, request.groups, request.k, request.facets)
        explained = {"filters": request.filters.as_dict(), "sort": "date", "browse": True} if request.explain else None
        return SearchPage([to_hit(hit, "") for hit in browsed.hits], browsed.total, "", request.filters,
                          browsed.facets, request.mode, explain=explained)
    corrections: list[Correction] = []
    searched = request.text
    if request.spellcheck and backend.capabilities.spelling:
        speller = backend.speller(request.groups)
        if speller is not None:
            searched, corrections = speller.correct(request.text)
    expansion = None
    if request.expand and expander is not None and request.mode != "dense" and backend.capabilities.expansion:
        expansion = expander.expand(searched)
    retrieval = backend.retrieve(Retrieve(
        searched, request.mode, retrieval_depth(request), flt, request.groups, expansion, request.facets,
        request.k if request.sort == "date" else 0))
    ranked = rank(retrieval, request.mode, fusion)
    by_relevance = ranked
    if request.sort == "date":
        relevance = {hit.record.uid: hit.score for hit in ranked}  # hybrid and dense: `depth` deep
        ranked = [hit if request.mode == "lexical" else ChunkHit(hit.record, relevance.get(hit.record.uid, 0.0))
                  for hit in retrieval.newest or []]
    hits = [to_hit(hit, searched) for hit in ranked[:request.k]]
    explained = None
    if request.explain:
        explained = explain_page(backend, request, searched, fusion, expansion, corrections)
        explain_hits(backend, request, hits, searched, expansion, retrieval, by_relevance)
    return SearchPage(hits, retrieval.total, request.text, request.filters, retrieval.facets, request.mode,
                      expansion, corrections=corrections, searched=searched, explain=explained)


def explain_page(backend: SearchBackend, request: SearchRequest, searched: str, fusion: Fusion,
                 expansion: Expansion | None, corrections: list[Correction]) -> dict[str, Any]:
    """What was applied to the whole query: terms, filters, expansion, corrections, fusion."""
    weights = fusion.weights
    return {
        "searched": searched,
        "terms": list(dict.fromkeys(backend.analyze(searched))) if request.mode != "dense" else [],
        "filters": request.filters.as_dict(), "mode": request.mode, "sort": request.sort,
        "corrections": [asdict(c) for c in corrections],
        "expansion": None if expansion is None else {
            "concepts": list(expansion.concepts), "labels": list(expansion.labels),
            "terms": list(expansion.terms), "weight": expansion.weight},
        "fusion": None if request.mode != "hybrid" else {
            "method": fusion.name,
            "weights": {"lexical": weights[0], "dense": weights[1]} if weights else None,
            "depth": request.depth},
    }


def explain_hits(backend: SearchBackend, request: SearchRequest, hits: list[Hit], searched: str,
                 expansion: Expansion | None, retrieval: Retrieval, ranked: list[ChunkHit]) -> None:
    """Per hit: its BM25 score, rank and matched terms; its dense score and rank; its fused rank.

    Term weights come from the backend under the caller's own statistics (what it may see).
    """
    query_terms = list(dict.fromkeys(backend.analyze(searched)))
    extra_terms = list(expansion.terms) if expansion is not None else []
    weigh = backend.capabilities.explain
    lexical_rank = {hit.record.uid: (position + 1, hit) for position, hit in enumerate(_hits(retrieval.lexical))}
    dense_rank = {hit.record.uid: (position + 1, hit) for position, hit in enumerate(_hits(retrieval.dense))}
    fused_rank = ({hit.record.uid: position + 1 for position, hit in enumerate(ranked)}
                  if request.mode == "hybrid" else {})
    for hit in hits:
        out: dict[str, Any] = {"lexical": None, "dense": None}
        if hit.uid in lexical_rank:
            position, best = lexical_rank[hit.uid]
            own = backend.term_weights(hit.uid, query_terms, request.groups) if weigh else {}
            extra = backend.term_weights(hit.uid, extra_terms, request.groups) if weigh and extra_terms else {}
            out["lexical"] = {
                "score": round(best.score, 4), "rank": position, "matched_terms": own,
                "expansion_terms": {t: w for t, w in extra.items() if t not in own},
                "expansion_part": round(max(0.0, best.score - sum(own.values())), 4),
            }
        if hit.uid in dense_rank:
            position, best = dense_rank[hit.uid]
            out["dense"] = {"score": round(best.score, 4), "rank": position, "chunk_id": best.record.chunk_id}
        if request.mode == "hybrid":
            out["fused"] = {"score": round(hit.score, 4), "rank": fused_rank.get(hit.uid)}
        hit.explain = out
