"""The behaviour every search backend owes (`kcrm.search.contract`), run once per backend.

Truths are counted from the corpus itself, and "as if restricted items did not exist" is checked
against the same backend kind built over the public items alone: an outsider's scores, term
weights, document frequencies and spelling suggestions must be exactly those.
"""

from __future__ import annotations

import pytest

from kcrm.search.contract import Capabilities, Retrieve, SearchBackend
from kcrm.search.expansion import taxonomy_expander
from kcrm.search.filters import SearchFilter, make_filter
from kcrm.search.hybrid import HybridSearch
from kcrm.search.taxonomy_browse import browse
from kcrm.search.types import IndexItem
from tests.contract.conftest import build_backend
from tests.contract.corpus import GROUP, ITEMS, PUBLIC, RESTRICTED, SECRET

MODES = ("hybrid", "lexical", "dense")
OUTSIDER: list[str] = []  # an agent with no access groups
INSIDER = [GROUP]


@pytest.fixture(scope="module")
def search(backend: SearchBackend) -> HybridSearch:
    return HybridSearch(backend=backend, expander=taxonomy_expander())


@pytest.fixture(scope="module")
def public_only(backend: SearchBackend) -> HybridSearch:
    """The same kind of backend over the public items alone: what an outsider's view must equal."""
    return HybridSearch(backend=build_backend(backend.name, PUBLIC), expander=taxonomy_expander())


def uids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.uid for hit in page.hits]


def test_backend_declares_the_protocol_and_its_capabilities(backend: SearchBackend) -> None:
    assert isinstance(backend, SearchBackend)
    assert isinstance(backend.capabilities, Capabilities)
    assert backend.item_count() == len(ITEMS) and backend.chunk_count() >= len(ITEMS)


@pytest.mark.parametrize("mode", MODES)
def test_filters_apply_before_ranking(search: HybridSearch, mode: str) -> None:
    page = search.page("refund status:open", k=10, mode=mode, facets=True)
    assert page.hits and all(item_of(h.uid).meta.get("status") == "open" for h in page.hits)
    assert set(page.facets["status"]) == {"open"}
    typed = search.page("refund", k=10, mode=mode, types={"Policy"})
    assert uids(typed) == ["POL-1"] and typed.total == 1
    product = search.page("refund", k=10, mode=mode, filters=make_filter({"product": ["x200"]}))
    assert set(uids(product)) <= {"CASE-1", "CASE-S3"} and "CASE-1" in uids(product)
    dated = search.page("refund date:2024", k=10, mode=mode)
    assert dated.hits and all(item_of(h.uid).meta["openedAt"].startswith("2024") for h in dated.hits)


@pytest.mark.parametrize("mode", MODES)
def test_trimming_hits_totals_facets_and_months(search: HybridSearch, mode: str) -> None:
    outsider = search.page("refund router zephyrine", k=20, mode=mode, facets=True, groups=OUTSIDER)
    insider = search.page("refund router zephyrine", k=20, mode=mode, facets=True, groups=INSIDER)
    assert not set(uids(outsider)) & RESTRICTED
    assert set(uids(insider)) & RESTRICTED
    assert insider.total - outsider.total == len(set(uids(insider)) & RESTRICTED)
    assert "Cobalt" not in outsider.facets.get("customer", {}) and insider.facets["customer"]["Cobalt"] >= 1
    assert sum(outsider.facets["month"].values()) == outsider.total
    assert sum(insider.facets["month"].values()) == insider.total
    everyone = search.page("refund router zephyrine", k=20, mode=mode, facets=True)  # no groups: sees all
    assert everyone.total == insider.total


def test_browse_and_date_sort_are_trimmed_newest_first(search: HybridSearch) -> None:
    cases = search.page("type:SupportCase", k=20, facets=True, groups=OUTSIDER)
    public_cases = [i for i in PUBLIC if i.type == "SupportCase"]
    assert cases.total == len(public_cases) and set(uids(cases)) == {i.uid for i in public_cases}
    assert uids(cases) == [i.uid for i in sorted(public_cases, key=lambda i: i.meta["openedAt"], reverse=True)]
    assert search.page("type:SupportCase", k=20, groups=INSIDER).total == len(public_cases) + len(RESTRICTED)
    dated = search.page("refund", k=5, mode="lexical", sort="date", groups=OUTSIDER)
    days = [date_of(item_of(u)) for u in uids(dated)]
    assert days == sorted(days, reverse=True) and not set(uids(dated)) & RESTRICTED
    assert all(h.score > 0 for h in dated.hits)


def test_taxonomy_counts_are_trimmed(search: HybridSearch) -> None:
    def refund_count(groups: list[str]) -> int:
        tree = browse(search, "topics", groups=groups)
        found = [n for root in tree.nodes for n in walk(root) if n.uid == "topic-refund"]
        return found[0].count

    assert refund_count(OUTSIDER) == 2 and refund_count(INSIDER) == 3


def test_outsider_scores_are_those_of_a_collection_without_restricted_items(
        search: HybridSearch, public_only: HybridSearch) -> None:
    """BM25 idf and lengths are a frequency side channel: they must come from what the caller sees."""
    for query in ("refund", "router refund", "退款"):
        seen = search.page(query, k=10, mode="lexical", groups=OUTSIDER, explain=True)
        truth = public_only.page(query, k=10, mode="lexical", explain=True)
        assert [(h.uid, round(h.score, 4)) for h in seen.hits] == [(h.uid, round(h.score, 4)) for h in truth.hits]
        assert [h.explain for h in seen.hits] == [h.explain for h in truth.hits]
    insider = search.page("refund", k=10, mode="lexical", groups=INSIDER)
    outsider = search.page("refund", k=10, mode="lexical", groups=OUTSIDER)
    shared = {h.uid: h.score for h in insider.hits}
    assert any(abs(shared[h.uid] - h.score) > 1e-6 for h in outsider.hits)  # the views do differ


def test_document_frequency_counts_only_visible_items(backend: SearchBackend) -> None:
    term = backend.analyze("refund")[0]
    secret = backend.analyze(SECRET)[0]
    truth = sum(1 for i in PUBLIC if term in backend.analyze(f"{i.title}\n{i.text}"))
    assert backend.document_frequency(term, frozenset()) == truth
    assert backend.document_frequency(term, frozenset(INSIDER)) > truth
    assert backend.document_frequency(secret, frozenset()) == 0 < backend.document_frequency(secret, None)


def test_spelling_suggests_only_words_the_caller_may_see(search: HybridSearch, public_only: HybridSearch) -> None:
    typo = "zephyrnie refnud"
    outsider = search.page(typo, k=5, mode="lexical", spellcheck=True, groups=OUTSIDER, explain=True)
    insider = search.page(typo, k=5, mode="lexical", spellcheck=True, groups=INSIDER)
    assert SECRET not in (outsider.did_you_mean or "") and SECRET in (insider.did_you_mean or "")
    assert all(c.correction != SECRET for c in outsider.corrections)
    truth = public_only.page(typo, k=5, mode="lexical", spellcheck=True)
    assert [(c.correction, c.frequency) for c in outsider.corrections] == [
        (c.correction, c.frequency) for c in truth.corrections]
    assert {c.correction: c.frequency for c in insider.corrections}["refund"] > {
        c.correction: c.frequency for c in outsider.corrections}["refund"]
    assert SECRET not in str(outsider.explain)


def test_explain_term_weights_add_up_and_hide_restricted_items(search: HybridSearch) -> None:
    page = search.page("refund router", k=5, explain=True, groups=OUTSIDER)
    assert page.explain["fusion"]["method"] and page.explain["terms"]
    for hit in page.hits:
        lexical = hit.explain["lexical"]
        if lexical is not None:
            assert lexical["score"] == pytest.approx(
                sum(lexical["matched_terms"].values()) + lexical["expansion_part"], abs=1e-3)
    plain = search.page("refund router", k=5, mode="lexical", expand=False, explain=True, groups=OUTSIDER)
    for hit in plain.hits:
        assert hit.explain["lexical"]["score"] == pytest.approx(
            sum(hit.explain["lexical"]["matched_terms"].values()), abs=1e-3)
    assert search.backend.term_weights("CASE-S1", ["refund"], frozenset()) == {}
    assert search.backend.term_weights("CASE-S1", ["refund"], frozenset(INSIDER))


def test_cross_language_expansion_finds_both_languages_within_the_view(search: HybridSearch) -> None:
    chinese = search.page("退款", k=10, mode="lexical", groups=OUTSIDER)
    assert uids(chinese)[0] == "CASE-ZH" and "CASE-1" in uids(chinese) and not set(uids(chinese)) & RESTRICTED
    assert chinese.expansion is not None and "topic-refund" in chinese.expansion.concepts
    english = search.page("refund", k=10, mode="lexical", groups=OUTSIDER)
    assert "CASE-ZH" in uids(english)
    assert uids(search.page("退款", k=10, mode="lexical", expand=False)) == ["CASE-ZH"]


def test_retrieve_reports_per_retriever_candidates_and_total(backend: SearchBackend) -> None:
    retrieval = backend.retrieve(Retrieve("refund", "hybrid", 3, SearchFilter(), frozenset(), facets=True))
    assert retrieval.lexical is not None and retrieval.dense is not None
    assert len(retrieval.lexical.hits) == 3 and retrieval.lexical.total > 3
    lexical_scores = [h.score for h in retrieval.lexical.hits]
    assert lexical_scores == sorted(lexical_scores, reverse=True)
    assert not {h.record.uid for h in retrieval.lexical.hits + retrieval.dense.hits} & RESTRICTED
    assert retrieval.facets is not None and sum(retrieval.facets["type"].values()) == retrieval.total


def test_incremental_add_update_and_remove(fresh_backend: SearchBackend) -> None:
    search = HybridSearch(backend=fresh_backend)
    before = fresh_backend.item_count()
    fresh_backend.add([IndexItem("CASE-NEW", "SupportCase", "Modem overheats", "The quartzite modem overheats.",
                                 "en", {"openedAt": "2026-01-01", "status": "open"})])
    assert fresh_backend.item_count() == before + 1
    for mode in MODES:
        assert uids(search.page("quartzite modem", k=1, mode=mode)) == ["CASE-NEW"]
    fresh_backend.remove(["CASE-NEW"])
    fresh_backend.add([IndexItem("CASE-NEW", "SupportCase", "Modem fixed", "The basaltine modem works again.",
                                 "en", {"openedAt": "2026-01-02", "status": "closed"})])
    assert search.page("quartzite", k=5, mode="lexical").hits == []
    updated = search.page("basaltine status:closed", k=5, mode="lexical", facets=True)
    assert uids(updated) == ["CASE-NEW"] and updated.facets["status"] == {"closed": 1}
    assert fresh_backend.remove(["CASE-NEW", "CASE-1"]) == 2
    assert fresh_backend.item_count() == before - 1
    for mode in MODES:
        assert not {"CASE-NEW", "CASE-1"} & set(uids(search.page("basaltine router refund", k=20, mode=mode)))
    assert search.page("type:SupportCase", k=50).total == sum(1 for i in ITEMS if i.type == "SupportCase") - 1


def item_of(uid: str) -> IndexItem:
    return next(item for item in ITEMS if item.uid == uid)


def date_of(item: IndexItem) -> str:
    return str(item.meta.get("openedAt") or item.meta.get("publishedAt") or item.meta.get("effectiveFrom"))


def walk(node):  # type: ignore[no-untyped-def]
    yield node
    for child in node.children:
        yield from walk(child)
