"""GET /v1/search in each mode over the real stack: Neo4j -> reindex (FAISS + BM25) -> HTTP."""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.e2e

REFUND_EN = ("refund", "money back", "reimburse")


def _search(api: httpx.Client, q: str, **params) -> dict:
    response = api.get("/v1/search", params={"q": q, **params}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_each_mode_answers_with_printer_cases(api: httpx.Client, mode: str) -> None:
    body = _search(api, "printer driver fails after update", mode=mode, k=10)
    assert body["mode"] == mode and body["count"] == len(body["hits"]) > 0
    top = body["hits"][:5]
    assert sum("print" in (h["title"] + h["snippet"]).lower() or "打印" in h["title"] + h["snippet"]
               for h in top) >= 3, [h["title"] for h in top]
    scores = [h["score"] for h in body["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_default_mode_is_hybrid_with_scores_in_unit_range(api: httpx.Client) -> None:
    body = _search(api, "refund policy")
    assert body["mode"] == "hybrid"
    assert all(0.0 <= h["score"] <= 1.0 for h in body["hits"])


def test_lexical_mode_only_returns_items_sharing_a_term(api: httpx.Client) -> None:
    hits = _search(api, "退款", mode="lexical", k=20, expand="false")["hits"]
    assert hits and all(h["language"] == "zh" for h in hits)
    assert all("退" in h["title"] + h["snippet"] or "款" in h["title"] + h["snippet"] for h in hits)


def test_chinese_query_reaches_english_documents_through_the_dense_side(api: httpx.Client) -> None:
    """BM25 alone cannot cross languages; the fused list keeps what the dense side found across them."""
    for mode in ("dense", "hybrid"):
        hits = _search(api, "退款", mode=mode, type="Document", k=5)["hits"]
        english = [h for h in hits if h["language"] == "en" and any(w in (h["title"] + h["snippet"]).lower()
                                                                     for w in REFUND_EN)]
        assert english, (mode, [h["title"] for h in hits])
    lexical = _search(api, "退款", mode="lexical", type="Document", k=5, expand="false")["hits"]
    assert all(h["language"] == "zh" for h in lexical)


def test_modes_differ_where_they_should(api: httpx.Client) -> None:
    """Lexical finds nothing for words absent from the corpus; dense always returns neighbours."""
    assert _search(api, "zyxwvut qqqq", mode="lexical")["hits"] == []
    assert _search(api, "zyxwvut qqqq", mode="dense")["count"] > 0


def test_type_filter_in_lexical_and_hybrid(api: httpx.Client) -> None:
    for mode in ("lexical", "hybrid"):
        hits = _search(api, "refund", mode=mode, type="Policy", k=5)["hits"]
        assert hits and {h["type"] for h in hits} == {"Policy"}


def test_unknown_mode_is_a_problem(api: httpx.Client) -> None:
    response = api.get("/v1/search", params={"q": "refund", "mode": "fuzzy"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_reindex_published_both_indexes_from_the_same_graph_state(e2e_settings, loaded) -> None:
    top = json.loads((e2e_settings.index_dir / "manifest.json").read_text())
    dense = json.loads((e2e_settings.index_dir / "dense" / "manifest.json").read_text())
    lexical = json.loads((e2e_settings.lexical_index_dir / "manifest.json").read_text())
    assert top["format"] == "kcrm-search-generation"
    assert lexical["format"] == "kcrm-lexical-index" and lexical["watermark"] == dense["watermark"] == top["watermark"]
    assert (top["dense"]["build_id"], top["lexical"]["build_id"]) == (dense["build_id"], lexical["build_id"])
    assert lexical["counts"]["items"] == dense["counts"]["items"] > 0


def test_readyz_reports_the_hybrid_index(api: httpx.Client) -> None:
    body = api.get("/readyz", timeout=10).json()
    assert body["checks"]["index"]["ok"]
