"""Sort by date, explain, spelling and graph facts on HybridSearch pages (real BM25 and FAISS)."""

from __future__ import annotations

import pytest

from kcrm.foundation.errors import BadQuery
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.facts import graph_facts
from kcrm.search.hybrid import HybridSearch, build_lexical_index
from kcrm.search.semantic import IndexItem, SemanticSearch

EMBEDDER = HashingEmbedder(dim=128)
ITEMS = [
    IndexItem("CASE-1", "SupportCase", "Refund not received", "I returned the router and want my refund.", "en",
              {"openedAt": "2023-01-05", "customer": "Ashford", "tier": "gold", "resolvedBy": "Li Na"}),
    IndexItem("CASE-2", "SupportCase", "Refund for a late parcel", "The parcel came late; a refund was asked.", "en",
              {"openedAt": "2025-03-01", "tier": "bronze"}),
    IndexItem("CASE-3", "SupportCase", "Printer driver fails", "The printer driver fails after the update.", "en",
              {"openedAt": "2024-06-01"}),
    IndexItem("POL-1", "Policy", "Refund policy", "Refunds are paid within 14 days of the return.", "en",
              {"effectiveFrom": "2020-01-01"}),
] + [IndexItem(f"DOC-{i}", "Document", "Refund policy notes", "Refund policy and refund rules.", "en", {})
     for i in range(5)]


@pytest.fixture(scope="module")
def hybrid() -> HybridSearch:
    return HybridSearch(SemanticSearch(SemanticSearch.build(ITEMS, EMBEDDER), EMBEDDER), build_lexical_index(ITEMS))


def test_sort_by_date_orders_the_matches_newest_first(hybrid: HybridSearch) -> None:
    page = hybrid.page("refund", k=3, mode="lexical", sort="date")
    assert [h.uid for h in page.hits] == ["CASE-2", "CASE-1", "POL-1"]
    assert all(h.score > 0 for h in page.hits)
    with pytest.raises(BadQuery, match="sort"):
        hybrid.page("refund", sort="size")


def test_explain_gives_scores_ranks_terms_and_fusion(hybrid: HybridSearch) -> None:
    page = hybrid.page("refund router", k=3, explain=True)
    assert page.explain["fusion"]["method"].startswith("rrf") and page.explain["terms"]
    top = page.hits[0]
    assert top.uid == "CASE-1"
    lexical = top.explain["lexical"]
    assert lexical["rank"] == 1 and set(lexical["matched_terms"]) == {"refund", "router"}
    assert lexical["score"] == pytest.approx(sum(lexical["matched_terms"].values()), abs=1e-3)
    assert top.explain["dense"]["rank"] >= 1 and top.explain["fused"]["rank"] == 1
    plain = hybrid.page("refund router", k=3)
    assert plain.explain is None and plain.hits[0].explain is None


def test_spellcheck_corrects_and_says_so(hybrid: HybridSearch) -> None:
    page = hybrid.page("refnud polcy", k=3, mode="lexical", spellcheck=True, explain=True)
    assert page.did_you_mean == "refund policy" and page.hits and page.hits[0].uid in {"POL-1"} | {
        f"DOC-{i}" for i in range(5)}
    assert page.explain["corrections"][0]["correction"] == "refund"
    assert hybrid.page("refnud polcy", k=3, mode="lexical").hits == []  # off: searched as typed
    assert hybrid.page("refund policy", k=3, mode="lexical", spellcheck=True).did_you_mean is None


def test_tier_is_filterable_and_a_fact() -> None:
    search = HybridSearch(SemanticSearch(SemanticSearch.build(ITEMS, EMBEDDER), EMBEDDER), build_lexical_index(ITEMS))
    page = search.page("refund tier:gold", k=5, facets=True)
    assert [h.uid for h in page.hits] == ["CASE-1"] and page.facets["tier"] == {"gold": 1}
    assert graph_facts(page.hits[0].meta) == {"customer": "Ashford", "customerTier": "gold", "resolvedBy": "Li Na"}
