"""Query expansion from the taxonomy over the real stack: Chinese finds English lexically, and back."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e

REFUND_EN = ("refund", "money back", "reimburs", "chargeback")


def _search(api: httpx.Client, q: str, **params) -> dict:
    response = api.get("/v1/search", params={"q": q, **params}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _about_refund_en(hit: dict) -> bool:
    return hit["language"] == "en" and any(w in (hit["title"] + hit["snippet"]).lower() for w in REFUND_EN)


def test_chinese_query_finds_english_documents_lexically(api: httpx.Client) -> None:
    off = _search(api, "退款", mode="lexical", type="Document", k=10, expand="false")
    assert off["expanded_terms"] == [] and all(h["language"] == "zh" for h in off["hits"])
    on = _search(api, "退款", mode="lexical", type="Document", k=10)
    assert "topic-refund" in on["expanded_concepts"] and "Refund" in on["expanded_terms"]
    assert any(_about_refund_en(h) for h in on["hits"]), [h["title"] for h in on["hits"]]
    assert on["hits"][0]["language"] == "zh", "the user's own words still rank first"
    assert on["total"] > off["total"]


def test_english_query_reaches_chinese_documents_lexically(api: httpx.Client) -> None:
    off = _search(api, "invoice", mode="lexical", type="Document", k=20, expand="false")
    assert all(h["language"] == "en" for h in off["hits"])
    on = _search(api, "invoice", mode="lexical", type="Document", k=20)
    assert "发票" in on["expanded_terms"] and "topic-invoice" in on["expanded_concepts"]
    chinese = [h for h in on["hits"] if h["language"] == "zh"]
    assert any(h["meta"].get("topic") == "Invoice" for h in chinese), [h["title"] for h in chinese]
    assert on["hits"][0]["language"] == "en", "the user's own words still rank first"


def test_expansion_widens_the_case_match_set_but_own_language_ranks_first(api: httpx.Client) -> None:
    off = _search(api, "refund", mode="lexical", type="SupportCase", facets="true", expand="false")
    on = _search(api, "refund", mode="lexical", type="SupportCase", facets="true")
    assert set(off["facets"]["language"]) == {"en"}
    assert on["facets"]["language"].get("zh", 0) > 0 and on["total"] > off["total"]
    languages = [h["language"] for h in on["hits"]]
    # the other language is placed by rank: every third hit at most, never first
    assert languages[:2] == ["en", "en"] and 0 < languages.count("zh") <= len(languages) // 3 + 1


def test_a_bare_chinese_query_over_all_types_mixes_in_english_items(api: httpx.Client) -> None:
    body = api.get("/v1/search", params={"q": "退款", "k": 20, "mode": "lexical"}).json()
    languages = [h["language"] for h in body["hits"]]
    assert languages[0] == "zh" and "en" in languages[:5], languages
    english = [h for h in body["hits"] if h["language"] == "en"]
    about = [h for h in english if _about_refund_en(h) or h["meta"].get("topic") == "Refund"]
    assert len(about) >= max(1, 2 * len(english) // 3), [h["title"] for h in english]


def test_hybrid_reports_expansion_and_dense_does_not(api: httpx.Client) -> None:
    assert _search(api, "打印机", k=5)["expanded_terms"]
    assert _search(api, "打印机", k=5, mode="dense")["expanded_terms"] == []
    assert _search(api, "zyxwvut", k=5)["expanded_terms"] == []


def test_entities_group_finds_customers_products_and_employees_by_name(api: httpx.Client, graph) -> None:
    """Names are taken from the graph itself; each is found in its type's group with an exact score."""
    for label in ("Customer", "Product", "Employee"):
        row = graph.read(f"MATCH (n:{label}) WHERE n.name IS NOT NULL RETURN n.uid AS uid, n.name AS name "
                         "ORDER BY n.uid LIMIT 1")[0]
        body = _search(api, row["name"], entities="true", k=5)
        group = body["entities"]
        assert group["counts"][label] >= 1
        hit = next(h for h in group["hits"] if h["uid"] == row["uid"])
        assert hit["type"] == label and hit["score"] == 1.0
        scores = [h["score"] for h in group["hits"]]
        assert scores == sorted(scores, reverse=True)
    product = graph.read("MATCH (n:Product) WHERE n.sku IS NOT NULL RETURN n.uid AS uid, n.sku AS sku LIMIT 1")[0]
    by_sku = _search(api, product["sku"].lower(), entities="true")["entities"]
    assert product["uid"] in [h["uid"] for h in by_sku["hits"]]
    assert _search(api, "refund")["entities"] is None
    none = _search(api, "zyxwvut", entities="true")["entities"]
    assert none["hits"] == [] and set(none["counts"].values()) == {0}
