"""The concept tree: rolled-up counts, drill-down filters that include descendants, browsing."""

from __future__ import annotations

import pytest

from kcrm.foundation.errors import BadQuery
from kcrm.ontology.taxonomy import Concept
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.filters import make_filter
from kcrm.search.hybrid import HybridSearch, build_lexical_index
from kcrm.search.semantic import IndexItem, SemanticSearch
from kcrm.search.taxonomy_browse import ConceptTree, browse, default_tree


def _concept(uid: str, en: str, zh: str, broader: str | None, scheme: str = "topics") -> Concept:
    return Concept(uid, scheme, "Topic", en, zh, (), broader, None)


TREE = ConceptTree([_concept("topic-billing", "Billing and payments", "账单与付款", None),
                    _concept("topic-refund", "Refund", "退款", "topic-billing"),
                    _concept("topic-invoice", "Invoice", "发票", "topic-billing"),
                    _concept("topic-account", "Account access", "账户与登录", None)])


def test_counts_roll_up_to_every_ancestor() -> None:
    roots, unplaced = TREE.tree("topics", {"Refund": 5, "Invoice": 2, "Billing and payments": 1, "Unknown": 4})
    billing = next(n for n in roots if n.uid == "topic-billing")
    assert billing.count == 8 and [(c.uid, c.count) for c in billing.children] == [("topic-refund", 5),
                                                                                    ("topic-invoice", 2)]
    assert next(n for n in roots if n.uid == "topic-account").count == 0
    assert unplaced == 4
    assert billing.as_dict()["label_zh"] == "账单与付款"


def test_concept_filters_widen_to_descendants_by_uid_or_either_label() -> None:
    for name in ("topic-billing", "账单与付款", "billing and payments"):
        resolved = TREE.resolve(make_filter({"topic": [name], "status": ["open"]}))
        assert resolved.fields["topic"] == {"billing and payments", "refund", "invoice"}
        assert resolved.fields["status"] == {"open"}
    plain = make_filter({"topic": ["fund"]})
    assert TREE.resolve(plain) is plain  # not a concept: containment as before


def test_unknown_scheme_is_a_bad_query() -> None:
    with pytest.raises(BadQuery, match="scheme"):
        TREE.tree("colours", {})


def test_browse_counts_the_facet_match_set() -> None:
    refund, printers = default_tree().concepts["topic-refund"].label_en, default_tree().concepts["cat-printers"].label_en
    items = [IndexItem("C1", "SupportCase", "Refund late", "refund please", "en", {"topic": refund, "status": "open"}),
             IndexItem("C2", "SupportCase", "退款", "退款没有到账", "zh", {"topic": refund, "status": "closed"}),
             IndexItem("C3", "SupportCase", "Printer jam", "paper jam", "en", {"category": printers}),
             IndexItem("P1", "Policy", "Refund policy", "refunds within 14 days", "en", {})]
    embedder = HashingEmbedder(dim=64)
    search = HybridSearch(SemanticSearch(SemanticSearch.build(items, embedder), embedder), build_lexical_index(items))
    everything = browse(search, "topics")
    assert everything.total == 4 and everything.unclassified == 2
    billing = next(n for n in everything.nodes if n.uid == "topic-billing")
    assert billing.count == 2
    opened = browse(search, "topics", filters=make_filter({"status": ["open"]}))
    assert opened.total == 1 and next(n for n in opened.nodes if n.uid == "topic-billing").count == 1
    lexical = browse(search, "topics", "refund", mode="lexical", expand=False)
    assert lexical.total == 2 and lexical.unclassified == 1  # C1 and P1 share the term
    drilled = search.page("type:case", k=10, filters=make_filter({"topic": ["topic-billing"]}))
    assert {h.uid for h in drilled.hits} == {"C1", "C2"}
    cats = browse(search, "product-categories")
    assert sum(n.count for n in cats.nodes) == 1
