"""HybridSearch over a real BM25 index and a real FAISS index (hashing embedder: no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcrm.foundation.errors import BadQuery, IndexIncompatible
from kcrm.search.contract import Retrieve
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.filters import SearchFilter, make_filter
from kcrm.search.fusion import RRF, ScoreFusion
from kcrm.search.hybrid import HybridSearch, build_lexical_index
from kcrm.search.lexical import BM25Index
from kcrm.search.ranking import fuse, rank
from kcrm.search.semantic import IndexItem, SemanticSearch
from kcrm.search.tokenizer import TextAnalyzer

EMBEDDER = HashingEmbedder(dim=128)
ITEMS = [
    IndexItem("CASE-1", "SupportCase", "Printer driver fails", "The printer driver fails after the update.", "en",
              {"status": "resolved"}),
    IndexItem("CASE-2", "SupportCase", "Refund not received", "I returned the router and want my refund.", "en", {}),
    IndexItem("CASE-3", "SupportCase", "退款没有到账", "客户退回了路由器，要求退款。", "zh", {"product": "AX3000"}),
    IndexItem("DOC-1", "Document", "Printer driver install guide", "How to install the printer driver.", "en", {}),
    IndexItem("POL-1", "Policy", "Refund policy", "Refunds are paid within 14 days of the return.", "en", {}),
    IndexItem("POL-1", "Policy", "duplicate", "a repeated uid keeps its first occurrence", "en", {}),
]


@pytest.fixture(scope="module")
def hybrid() -> HybridSearch:
    dense = SemanticSearch(SemanticSearch.build(ITEMS, EMBEDDER), EMBEDDER)
    return HybridSearch(dense, build_lexical_index(ITEMS))


def test_lexical_index_holds_one_record_per_item() -> None:
    index = build_lexical_index(ITEMS)
    assert index.count() == index.item_count() == 5
    assert {r.uid for r in index.records()} == {"CASE-1", "CASE-2", "CASE-3", "DOC-1", "POL-1"}


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_every_mode_finds_the_printer_case(hybrid: HybridSearch, mode: str) -> None:
    hits = hybrid.search("printer driver fails", k=3, mode=mode)
    assert hits[0].uid in {"CASE-1", "DOC-1"}
    assert len({h.uid for h in hits}) == len(hits)
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))


def test_lexical_mode_returns_only_items_with_a_query_term(hybrid: HybridSearch) -> None:
    assert {h.uid for h in hybrid.search("printer", k=10, mode="lexical")} == {"CASE-1", "DOC-1"}


def test_hybrid_unites_both_lists_with_scores_in_unit_range(hybrid: HybridSearch) -> None:
    retrieval = hybrid.backend.retrieve(Retrieve("refund", "hybrid", 10, SearchFilter(), None))
    lexical, dense = retrieval.lexical.hits, retrieval.dense.hits
    fused = rank(retrieval, "hybrid", hybrid.fusion)
    assert {h.record.uid for h in fused} == {h.record.uid for h in lexical} | {h.record.uid for h in dense}
    assert [h.uid for h in hybrid.search("refund", 10)] == [h.record.uid for h in fused][:10]
    assert all(0.0 <= h.score <= 1.0 for h in fused)


def test_item_first_in_both_lists_scores_one_under_either_fusion(hybrid: HybridSearch) -> None:
    retrieval = hybrid.backend.retrieve(Retrieve("printer driver fails after the update", "hybrid", 10,
                                                 SearchFilter(), None))
    lexical, dense = retrieval.lexical.hits, retrieval.dense.hits
    assert lexical[0].record.uid == dense[0].record.uid == "CASE-1"
    for fusion in (RRF(), ScoreFusion(weights=(0.3, 0.7))):
        assert fuse(lexical, dense, fusion)[0].score == pytest.approx(1.0)


def test_type_filter_applies_in_every_mode(hybrid: HybridSearch) -> None:
    for mode in ("hybrid", "lexical", "dense"):
        hits = hybrid.search("refund", k=5, types={"Policy"}, mode=mode)
        assert [h.uid for h in hits] == ["POL-1"], mode
        assert hybrid.search("refund", k=5, types=set(), mode=mode) == []


def test_hit_fields_and_snippet(hybrid: HybridSearch) -> None:
    hit = hybrid.search("退款", k=1, mode="lexical")[0]
    assert (hit.uid, hit.type, hit.language, hit.meta) == ("CASE-3", "SupportCase", "zh", {"product": "AX3000"})
    assert "退款" in hit.snippet


def test_bad_mode_and_bad_query_are_refused(hybrid: HybridSearch) -> None:
    with pytest.raises(BadQuery, match="mode must be one of hybrid, lexical, dense"):
        hybrid.search("refund", mode="fuzzy")
    with pytest.raises(BadQuery, match="empty"):
        hybrid.search("   ")


def test_load_pairs_both_published_indexes(tmp_path: Path, hybrid: HybridSearch) -> None:
    hybrid.dense.index.save(tmp_path / "index", watermark="w")
    hybrid.lexical.save(tmp_path / "lexical", watermark="w")
    loaded = HybridSearch.load(tmp_path / "index", tmp_path / "lexical", EMBEDDER)
    assert [h.uid for h in loaded.search("refund policy", k=3)] == [h.uid for h in hybrid.search("refund policy", k=3)]
    assert loaded.item_count == 5
    with pytest.raises(IndexIncompatible, match="analyzer"):
        HybridSearch.load(tmp_path / "index", tmp_path / "lexical", EMBEDDER, TextAnalyzer(stem=False))


def test_depth_must_be_positive(hybrid: HybridSearch) -> None:
    with pytest.raises(ValueError, match="depth"):
        HybridSearch(hybrid.dense, BM25Index(), depth=0)


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_filters_apply_before_ranking_in_every_mode(hybrid: HybridSearch, mode: str) -> None:
    page = hybrid.page("printer refund 退款 language:zh", k=3, mode=mode, facets=True)
    assert [h.uid for h in page.hits] == ["CASE-3"] and page.text == "printer refund 退款"
    assert page.total == 1 and page.facets["language"] == {"zh": 1}


def test_facets_count_the_whole_match_set(hybrid: HybridSearch) -> None:
    page = hybrid.page("refund", k=1, mode="lexical", facets=True)
    assert len(page.hits) == 1 and page.total == 2  # CASE-2 and POL-1 ("refunds" stems to "refund")
    assert page.facets["type"] == {"Policy": 1, "SupportCase": 1} and page.facets["language"] == {"en": 2}
    hybrid_page = hybrid.page("refund", k=1, facets=True)
    assert hybrid_page.total == 5  # BM25's matches plus the dense side's candidates (all 5 items here)


def test_parameter_filters_merge_with_query_filters(hybrid: HybridSearch) -> None:
    page = hybrid.page("printer status:resolved", k=5, mode="lexical", filters=make_filter({"type": ["case"]}))
    assert [h.uid for h in page.hits] == ["CASE-1"]
    assert page.filters.fields == {"status": {"resolved"}, "type": {"supportcase"}}


def test_filters_alone_browse_the_filtered_items(hybrid: HybridSearch) -> None:
    page = hybrid.page("type:case", k=10, facets=True)
    assert page.text == "" and page.total == 3 and {h.uid for h in page.hits} == {"CASE-1", "CASE-2", "CASE-3"}
    assert page.facets["type"] == {"SupportCase": 3}
    with pytest.raises(BadQuery, match="empty"):
        hybrid.page("  ", k=5)
