"""Query expansion from the SKOS taxonomy: concepts found in a query, labels added, weights kept."""

from __future__ import annotations

import numpy as np
import pytest

from kcrm.ontology.taxonomy import Concept, load_concepts
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.expansion import QueryExpander, concept_labels, expanded_scores, taxonomy_expander
from kcrm.search.hybrid import HybridSearch, build_lexical_index
from kcrm.search.semantic import IndexItem, SemanticSearch
from kcrm.search.tokenizer import TextAnalyzer

REFUND = Concept("topic-refund", "topics", "Topic", "Refund", "退款", ("money back", "refunds", "退钱"), None, None)
PRINTER = Concept("cat-printers", "product-categories", "ProductCategory", "Printers", "打印机", ("MFP",), None, None)
ITEMS = [
    IndexItem("CASE-EN", "SupportCase", "Refund not received", "I returned the router and want my refund.", "en", {}),
    IndexItem("CASE-ZH", "SupportCase", "退款没有到账", "客户退回了路由器，要求退款。", "zh", {}),
    IndexItem("DOC-1", "Document", "Printer guide", "How to install the printer driver.", "en", {}),
]


@pytest.fixture(scope="module")
def expander() -> QueryExpander:
    return QueryExpander([REFUND, PRINTER], TextAnalyzer())


def test_labels_of_a_concept_cover_both_languages_without_repeats() -> None:
    twice = Concept("x", "topics", "Topic", "Refund", "退款", ("refund", "退款", "money back"), None, None)
    assert concept_labels(twice) == ["Refund", "退款", "money back"]


def test_chinese_query_gets_english_labels_and_the_reverse(expander: QueryExpander) -> None:
    zh = expander.expand("我要退款")
    assert zh.concepts == ("topic-refund",)
    assert "Refund" in zh.labels and "退钱" in zh.labels and "退款" not in zh.labels
    assert "money back" not in zh.labels, "multi-word altLabels would match word by word"
    en = expander.expand("Refunds please")
    assert en.concepts == ("topic-refund",)
    assert "退款" in en.labels and "退钱" in en.labels
    assert not {"Refund", "refunds"} & set(en.labels), "labels whose terms the query has are not added"
    assert "退款" in en.terms and "钱" not in en.terms and "退" not in en.terms, "lone characters are not added"
    assert "refund" not in en.terms


def test_a_query_naming_no_concept_is_left_alone(expander: QueryExpander) -> None:
    assert expander.expand("password reset").labels == ()
    assert expander.expand("打").labels == ()


def test_expansion_terms_weigh_less_than_the_query_terms(expander: QueryExpander) -> None:
    index = build_lexical_index(ITEMS)
    expansion = expander.expand("退款")
    plain, blended = index.scores("退款"), expanded_scores(index.scores, index.term_scores, "退款", expansion)
    english = [r.uid for r in index.records()].index("CASE-EN")
    chinese = [r.uid for r in index.records()].index("CASE-ZH")
    assert plain[english] == 0 < blended[english]
    assert blended[chinese] == pytest.approx(plain[chinese])  # no new term of it: unchanged
    assert blended[english] == pytest.approx(expansion.weight * plain.max())  # below the best own-word match


def test_bad_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="weight"):
        QueryExpander([REFUND], TextAnalyzer(), weight=0)


def test_hybrid_page_reports_and_switches_expansion(expander: QueryExpander) -> None:
    embedder = HashingEmbedder(dim=64)
    search = HybridSearch(SemanticSearch(SemanticSearch.build(ITEMS, embedder), embedder), build_lexical_index(ITEMS),
                          expander=expander)
    on = search.page("退款", k=5, mode="lexical")
    assert on.expansion is not None and "Refund" in on.expansion.labels
    assert [h.uid for h in on.hits] == ["CASE-ZH", "CASE-EN"]
    off = search.page("退款", k=5, mode="lexical", expand=False)
    assert off.expansion is None and [h.uid for h in off.hits] == ["CASE-ZH"]
    assert [h.uid for h in search.page("refund", 5, mode="lexical", expand=True).hits] == ["CASE-EN", "CASE-ZH"]
    assert search.page("退款", k=5, mode="dense").expansion is None


def test_shipped_taxonomy_translates_refund_both_ways() -> None:
    expander = taxonomy_expander()
    assert "退款" in expander.expand("refund").labels
    assert "Refund" in expander.expand("退款").labels
    assert len({c.uid for c in load_concepts()}) >= len(expander.expand("refund").concepts) > 0
    assert np.isfinite(expander.weight)


def test_a_language_the_query_cannot_reach_is_placed_by_rank_among_its_matches() -> None:
    import numpy as np

    from kcrm.search.expansion import Expansion, expanded_scores

    # records 0-5 Chinese (the query's own words match them, flat scores); 6-8 English (expansion only)
    base = np.array([10.0, 9.9, 9.8, 9.7, 9.6, 9.5, 0.0, 0.0, 0.0])
    extra = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 1.0, 2.0])
    groups = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0])
    expansion = Expansion(("topic-refund",), ("Refund",), 0.5, ("refund",))
    plain = expanded_scores(lambda q: base, lambda t: extra, "退款", expansion)
    assert np.argsort(-plain)[:6].tolist() == [0, 1, 2, 3, 4, 5]  # without groups: every English hit last
    mixed = expanded_scores(lambda q: base, lambda t: extra, "退款", expansion, groups=groups)
    assert np.argsort(-mixed, kind="stable").tolist()[:9] == [0, 1, 6, 2, 3, 8, 4, 5, 7]
    reached = expanded_scores(lambda q: base, lambda t: extra, "退款", expansion, groups=np.ones(9, dtype=int))
    assert np.allclose(reached, plain)  # one language: nothing changes
